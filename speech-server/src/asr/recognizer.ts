/**
 * One recognition stream on one decoder: decodes the wire encoding, resamples to 16 kHz, runs the
 * endpointer over 10 ms frames, feeds speech (with pre-roll) to PocketSphinx and turns hypotheses
 * into Riva-shaped interim and final events. Runs inside a decoder worker; it never touches gRPC.
 */
import { type AudioFormat, frameBytes, toMonoPcm16 } from '../audio/codecs.ts';
import { Resampler } from '../audio/resampler.ts';
import { Endpointer, type EndpointSettings, EnergyVad, FRAME_MS, FRAME_SAMPLES } from './endpointer.ts';
import { boostToWeight, buildArpa, phraseWords } from './phrase-lm.ts';
import type { Decoder } from './pocketsphinx.ts';

export const DECODER_RATE = 16_000;
/** Interims at least this often while speech goes on (Riva's streaming models use 160 ms chunks). */
const INTERIM_EVERY_SAMPLES = (DECODER_RATE * 160) / 1000;
/** Audio fed before the detected start, so word onsets the detector missed are still decoded. */
const PREROLL_FRAMES = 25;
/** Longest utterance before a forced final, so noise or a monologue cannot grow a lattice for ever. */
const MAX_UTTERANCE_SAMPLES = DECODER_RATE * 30;
/** Stability Riva-style clients see on ordinary interims (PocketSphinx partials do flicker). */
const INTERIM_STABILITY = 0.5;

export interface SpeechContextInput {
  phrases: string[];
  boost?: number;
}

export interface RecognizerOptions {
  format: AudioFormat;
  interimResults: boolean;
  wordTimeOffsets: boolean;
  endpoint: EndpointSettings;
  speechContexts: SpeechContextInput[];
}

export interface WordResult {
  word: string;
  startMs: number;
  endMs: number;
  confidence: number;
}

export type RecognizerEvent =
  | { kind: 'interim'; transcript: string; stability: number; audioProcessed: number }
  | { kind: 'final'; transcript: string; confidence: number; words: WordResult[]; audioProcessed: number };

export class Recognizer {
  readonly #decoder: Decoder;
  readonly #opts: RecognizerOptions;
  readonly #resampler: Resampler;
  readonly #vad = new EnergyVad();
  readonly #endpointer: Endpointer;
  readonly #frameBytes: number;
  #carryBytes: Uint8Array = new Uint8Array(0);
  #pending: Int16Array = new Int16Array(0);
  /** Recent non-speech frames kept for pre-roll. */
  #preroll: Int16Array[] = [];
  /** 16 kHz samples seen so far (stream time). */
  #samples = 0;
  #uttStartSample = 0;
  #sinceInterim = 0;
  /** Set after the early end-of-utterance interim; cleared when speech resumes. */
  #eouSent = false;
  #events: RecognizerEvent[] = [];

  constructor(decoder: Decoder, options: RecognizerOptions) {
    this.#decoder = decoder;
    this.#opts = options;
    this.#resampler = new Resampler(options.format.sampleRate, DECODER_RATE);
    this.#endpointer = new Endpointer(options.endpoint);
    this.#frameBytes = frameBytes(options.format);
    decoder.resetForStream();
    this.#applyContexts(options.speechContexts);
  }

  #applyContexts(contexts: SpeechContextInput[]): void {
    const phrases = contexts.flatMap((c) => c.phrases);
    if (phrases.length === 0) {
      this.#decoder.useGenericLm();
      return;
    }
    const sentences = phrases.map((p) => phraseWords(p).filter((w) => this.#decoder.knows(w)));
    const arpa = buildArpa(sentences);
    if (!arpa) {
      this.#decoder.useGenericLm();
      return;
    }
    const boosts = contexts.map((c) => c.boost ?? 0).filter((b) => b > 0);
    this.#decoder.useContextLm(arpa, boostToWeight(boosts.length > 0 ? Math.max(...boosts) : undefined));
  }

  /** Feeds wire bytes; returns the events they produced. */
  push(bytes: Uint8Array): RecognizerEvent[] {
    let data = bytes;
    if (this.#carryBytes.length > 0) {
      data = new Uint8Array(this.#carryBytes.length + bytes.length);
      data.set(this.#carryBytes);
      data.set(bytes, this.#carryBytes.length);
    }
    const usable = data.length - (data.length % this.#frameBytes);
    this.#carryBytes = data.slice(usable);
    const pcm = this.#resampler.push(toMonoPcm16(data.subarray(0, usable), this.#opts.format));
    this.#consume(pcm);
    return this.#take();
  }

  /** End of audio: flushes the resampler and finalises any open utterance. */
  finish(): RecognizerEvent[] {
    this.#consume(this.#resampler.flush());
    if (this.#pending.length > 0) this.#frame(this.#pending);
    this.#pending = new Int16Array(0);
    if (this.#decoder.inUtterance) this.#final();
    return this.#take();
  }

  /** Abandons the stream (cancel): ends any utterance without reporting it. */
  abort(): void {
    if (this.#decoder.inUtterance) this.#decoder.endUtt();
  }

  #take(): RecognizerEvent[] {
    const e = this.#events;
    this.#events = [];
    return e;
  }

  #consume(pcm: Int16Array): void {
    let buf = pcm;
    if (this.#pending.length > 0) {
      buf = new Int16Array(this.#pending.length + pcm.length);
      buf.set(this.#pending);
      buf.set(pcm, this.#pending.length);
    }
    let off = 0;
    for (; off + FRAME_SAMPLES <= buf.length; off += FRAME_SAMPLES)
      this.#frame(buf.subarray(off, off + FRAME_SAMPLES));
    this.#pending = buf.slice(off);
  }

  #frame(frame: Int16Array): void {
    const speech = this.#vad.isSpeech(frame);
    const event = this.#endpointer.push(speech);
    if (speech) this.#eouSent = false;
    const frameStart = this.#samples;
    this.#samples += frame.length;
    if (!this.#decoder.inUtterance) {
      if (event !== 'start') {
        this.#preroll.push(frame);
        const keep = this.#endpointer.startFrames + PREROLL_FRAMES;
        if (this.#preroll.length > keep) this.#preroll.splice(0, this.#preroll.length - keep);
        return;
      }
      const pre = this.#preroll;
      this.#preroll = [];
      const preSamples = pre.reduce((n, f) => n + f.length, 0);
      this.#uttStartSample = frameStart - preSamples;
      this.#sinceInterim = 0;
      this.#decoder.startUtt();
      for (const f of pre) this.#decoder.process(f);
    }
    this.#decoder.process(frame);
    this.#sinceInterim += frame.length;
    if (event === 'end' || this.#samples - this.#uttStartSample >= MAX_UTTERANCE_SAMPLES) {
      this.#final();
      // A forced final in the middle of speech keeps decoding into a fresh utterance.
      if (this.#endpointer.inSpeech) {
        this.#decoder.startUtt();
        this.#uttStartSample = this.#samples;
      }
      return;
    }
    if (event === 'eou') {
      this.#eouSent = true;
      const hyp = this.#decoder.hypothesis();
      if (hyp && this.#opts.interimResults) {
        this.#events.push({
          kind: 'interim',
          transcript: hyp,
          stability: 1,
          audioProcessed: this.#seconds(),
        });
        this.#sinceInterim = 0;
      }
      return;
    }
    // After the stability-1 interim, nothing changes until speech resumes.
    if (this.#opts.interimResults && !this.#eouSent && this.#sinceInterim >= INTERIM_EVERY_SAMPLES) {
      this.#sinceInterim = 0;
      const hyp = this.#decoder.hypothesis();
      if (hyp) {
        // Repeat an unchanged hypothesis too: clients use interims as a liveness signal.
        this.#events.push({
          kind: 'interim',
          transcript: hyp,
          stability: INTERIM_STABILITY,
          audioProcessed: this.#seconds(),
        });
      }
    }
  }

  #final(): void {
    const { words } = this.#decoder.endUtt();
    const offsetMs = (this.#uttStartSample * 1000) / DECODER_RATE;
    if (words.length === 0) return;
    const out: WordResult[] = words.map((w) => ({
      word: w.word,
      startMs: Math.round(offsetMs + w.startFrame * FRAME_MS),
      endMs: Math.round(offsetMs + w.endFrame * FRAME_MS),
      confidence: w.posterior,
    }));
    const confidence = out.reduce((s, w) => s + w.confidence, 0) / out.length;
    this.#events.push({
      kind: 'final',
      transcript: out.map((w) => w.word).join(' '),
      confidence,
      words: this.#opts.wordTimeOffsets ? out : [],
      audioProcessed: this.#seconds(),
    });
  }

  #seconds(): number {
    return this.#samples / DECODER_RATE;
  }
}
