/**
 * Result watchdog for one `StreamingRecognize` call: notices a stream that stays open (HTTP/2 pings
 * answered, audio accepted) but has stopped recognizing, which keepalive cannot see.
 *
 * Riva answers only when there is something to say, so silence alone is never owed a response. The call
 * is *owed* a response from the first chunk sent after the last response that
 *   - holds speech-level audio (RMS above ~-41 dBFS; keepalive silence and line noise do not count), or
 *   - follows an interim with text: an utterance is open and Riva owes its final, even on silence.
 * With interim results off Riva says nothing until the endpoint, so there the owed time starts at the
 * last speech chunk instead (a long utterance is not a stall).
 *
 * The call has stalled when, since it became owed, no response of any kind has arrived while BOTH
 * `timeoutMs` of wall time passed AND `timeoutMs` of audio was sent. Audio alone would misfire when
 * audio is fed faster than real time (files, a replay); wall time alone when a blocked event loop or a
 * starved process delivers audio (and reads responses) late. Any response clears the owed state.
 *
 * After the half-close the server owes the end of the stream (Riva flushes its last results and
 * closes): the call is owed from then, or from the last response after it, and with no more audio to
 * come only the wall time counts.
 */

/** RMS (PCM16) above which a chunk counts as speech Riva should answer: ~-41 dBFS. */
export const SPEECH_RMS = 300;

export interface WatchdogOptions {
  /** 0 disables the watchdog. */
  timeoutMs: number;
  sampleRate: number;
  /** Riva sends interim results on this stream (the config's `interim_results`). */
  interimResults: boolean;
  /** Called once, when the call has stalled. */
  onStall(): void;
}

/** The result shape the watchdog looks at (a `StreamingRecognitionResult__Output` fits). */
export interface WatchedResult {
  is_final?: boolean;
  alternatives?: { transcript?: string }[] | null;
}

export class ResultWatchdog {
  readonly #o: WatchdogOptions;
  readonly #timeoutSamples: number;
  /** `performance.now()` when the call became owed a response; undefined while nothing is owed. */
  #owedAt: number | undefined;
  /** Samples sent since `#owedAt`, the chunk that started it included. */
  #owedSamples = 0;
  /** The last result seen was an interim with text: Riva owes that utterance's final. */
  #open = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped: boolean;
  #halfClosed = false;

  constructor(o: WatchdogOptions) {
    this.#o = o;
    this.#timeoutSamples = Math.round((o.timeoutMs * o.sampleRate) / 1000);
    this.#stopped = o.timeoutMs <= 0;
  }

  /** Milliseconds of wall time the call has been owed a response (0 when nothing is owed). */
  get owedMs(): number {
    return this.#owedAt === undefined ? 0 : performance.now() - this.#owedAt;
  }

  /** Any message from the server: it is alive and answering. */
  onResponse(results: readonly WatchedResult[]): void {
    this.#owedAt = undefined;
    this.#owedSamples = 0;
    for (const r of results) {
      if (r.is_final) this.#open = false;
      else if ((r.alternatives ?? []).some((a) => (a.transcript ?? '').trim() !== '')) this.#open = true;
    }
    // Still owed: the end of the stream.
    if (this.#halfClosed) this.#arm();
  }

  /** The client half-closed the call: the server owes the end of the stream. */
  onHalfClose(): void {
    this.#halfClosed = true;
    // Owed since speech was sent, keep that start; else owed from now.
    if (this.#owedAt === undefined) this.#arm();
    else this.#check();
  }

  /** A PCM16 chunk was written to the call (caller audio, keepalive silence or replay). */
  onSent(chunk: Buffer): void {
    if (this.#stopped) return;
    let speech: boolean | undefined;
    if (!this.#o.interimResults) {
      speech = isSpeech(chunk);
      // Finals only: Riva answers after the speech ends, so the owed time restarts with every speech chunk.
      if (speech) this.#owedAt = undefined;
    }
    if (this.#owedAt === undefined) {
      if (!this.#open && !(speech ?? isSpeech(chunk))) return;
      this.#owedAt = performance.now();
      this.#owedSamples = 0;
    }
    this.#owedSamples += chunk.length >> 1;
    this.#check();
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#owedAt = performance.now();
    this.#owedSamples = 0;
    this.#check();
  }

  /** The call is over (ended, failed, stalled or cancelled): no more checks. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    if (this.#stopped || this.#owedAt === undefined) return;
    const waited = performance.now() - this.#owedAt;
    if (waited >= this.#o.timeoutMs) {
      // Enough wall time; if the audio is short (input stopped, starved), the next chunk checks again.
      if (!this.#halfClosed && this.#owedSamples < this.#timeoutSamples) return;
      this.stop();
      this.#o.onStall();
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#check();
      },
      Math.ceil(this.#o.timeoutMs - waited),
    );
    // The open gRPC call keeps the process alive while it matters; this timer alone must not.
    this.#timer.unref();
  }
}

/** RMS of a PCM16 little-endian chunk above `SPEECH_RMS`. */
export function isSpeech(chunk: Buffer): boolean {
  const n = chunk.length >> 1;
  if (n === 0) return false;
  let sum = 0;
  if (chunk.byteOffset % 2 === 0) {
    const s = new Int16Array(chunk.buffer, chunk.byteOffset, n);
    for (let i = 0; i < n; i++) sum += s[i]! * s[i]!;
  } else {
    for (let i = 0; i < n; i++) {
      const v = chunk.readInt16LE(i * 2);
      sum += v * v;
    }
  }
  return sum > SPEECH_RMS * SPEECH_RMS * n;
}
