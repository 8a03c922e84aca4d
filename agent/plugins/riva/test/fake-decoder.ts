/**
 * The fake server's "recognizer" for coded audio: a word is a run of samples near `wordLevel(i)`
 * (2000·(i+1)), silence is near 0. Values are matched with a tolerance so transcripts survive the
 * framework's resampler; an utterance is final after `stop_history` ms of silence, like a real endpoint.
 */
import type { StreamingRecognizeResponse } from '../../../../proto/src/index.ts';

export const VOCAB = [
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
  'india',
  'juliet',
  'kilo',
  'lima',
  'mike',
  'november',
];
export const wordLevel = (i: number): number => 2000 * (i + 1);
const TOL = 700;

/** PCM16 for a script: words (VOCAB names) of `wordMs` each separated by `gapMs`, then `tailMs` silence. */
export function codedAudio(
  words: string[],
  rate: number,
  { wordMs = 200, gapMs = 60, tailMs = 400, leadMs = 100 } = {},
): Int16Array {
  const ms = (n: number): number => Math.round((rate * n) / 1000);
  const total = ms(leadMs) + words.length * (ms(wordMs) + ms(gapMs)) + ms(tailMs);
  const out = new Int16Array(total);
  let p = ms(leadMs);
  for (const w of words) {
    const i = VOCAB.indexOf(w);
    if (i < 0) throw new Error(`not in VOCAB: ${w}`);
    out.fill(wordLevel(i), p, p + ms(wordMs));
    p += ms(wordMs) + ms(gapMs);
  }
  return out;
}

type Result = NonNullable<StreamingRecognizeResponse['results']>[number];

/** The coded-audio recognizer (see the module comment). */
export class Decoder {
  #pos = 0;
  #cur: { id: number; start: number; run: number } | undefined;
  #words: { id: number; start: number; end: number }[] = [];
  #silence = 0;
  #eouSent = false;
  #lastInterim = '';
  readonly #stopSamples: number;
  readonly #eouSamples: number | undefined;
  readonly #minWord: number;

  constructor(
    readonly rate: number,
    stopMs: number,
    eouMs: number | undefined,
  ) {
    this.#stopSamples = Math.round((rate * stopMs) / 1000);
    this.#eouSamples = eouMs !== undefined ? Math.round((rate * eouMs) / 1000) : undefined;
    this.#minWord = Math.round(rate * 0.03);
  }

  get processedMs(): number {
    return (this.#pos / this.rate) * 1000;
  }

  feed(samples: Int16Array, emit: (r: Result) => void): void {
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      const id = Math.round(v / 2000) - 1;
      const near = Math.abs(v - wordLevel(id)) <= TOL;
      if (Math.abs(v) <= TOL) {
        this.#closeWord();
        this.#silence++;
        if (this.#words.length > 0) {
          if (this.#eouSamples !== undefined && !this.#eouSent && this.#silence >= this.#eouSamples) {
            this.#eouSent = true;
            emit(this.#result(false, 1));
          }
          if (this.#silence >= this.#stopSamples) {
            this.#pos++;
            emit(this.#result(true));
            this.#words = [];
            this.#eouSent = false;
            this.#lastInterim = '';
            continue;
          }
        }
      } else if (near && id >= 0 && id < VOCAB.length) {
        this.#silence = 0;
        if (this.#cur && this.#cur.id === id) this.#cur.run++;
        else {
          this.#closeWord();
          this.#cur = { id, start: this.#pos, run: 1 };
        }
      }
      this.#pos++;
    }
    const text = this.#text(true);
    if (text && text !== this.#lastInterim && !this.#eouSent) {
      this.#lastInterim = text;
      emit(this.#result(false, 0.1, true));
    }
  }

  finish(emit: (r: Result) => void): void {
    this.#closeWord();
    if (this.#words.length > 0) emit(this.#result(true));
    this.#words = [];
  }

  #closeWord(): void {
    const c = this.#cur;
    this.#cur = undefined;
    if (!c || c.run < this.#minWord) return;
    const last = this.#words[this.#words.length - 1];
    // A resampler wobble can split one word in two: merge touching runs of the same word.
    if (last && last.id === c.id && c.start - last.end < this.#minWord) last.end = this.#pos;
    else this.#words.push({ id: c.id, start: c.start, end: this.#pos });
  }

  #text(withCurrent: boolean): string {
    const ids = this.#words.map((w) => w.id);
    if (withCurrent && this.#cur && this.#cur.run >= this.#minWord) ids.push(this.#cur.id);
    return ids.map((i) => VOCAB[i]).join(' ');
  }

  #result(isFinal: boolean, stability = 0, withCurrent = false): Result {
    const ms = (s: number): number => Math.round((s / this.rate) * 1000);
    return {
      alternatives: [
        {
          transcript: this.#text(withCurrent),
          confidence: isFinal ? 0.9 : 0,
          words: isFinal
            ? this.#words.map((w) => ({
                word: VOCAB[w.id],
                start_time: ms(w.start),
                end_time: ms(w.end),
                confidence: 0.95,
                speaker_tag: 0,
              }))
            : [],
          language_code: ['en-US'],
        },
      ],
      is_final: isFinal,
      stability: isFinal ? 0 : stability,
      audio_processed: this.#pos / this.rate,
    };
  }
}
