/**
 * `SpeechStream`: framework audio in, Riva results out as speech events.
 *
 * One `run()` lives for the whole call. Reconnects happen inside it (see `Recognizer`), because the
 * framework's own retry gives up after `maxRetry` and, in agents 1.9, a failed STT closes the session.
 * The pending `input.next()` is kept in a field so nothing is lost if the framework ever re-runs us.
 */

import { stt } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { StreamingRecognitionResult__Output } from '../../../../proto/src/index.ts';
import { Reframer } from './audio-buffer.ts';
import type { RivaChannel } from './channel.ts';
import { notify } from './observer.ts';
import { buildStreamingConfig, type STTOptions } from './stt-options.ts';
import { speechEndSec, toSpeechData } from './stt-results.ts';
import { Recognizer } from './stt-session.ts';

/** Usage events are emitted for every this many seconds of caller audio. */
const USAGE_EVERY_SEC = 5;
/** Stability Riva gives its two-pass end-of-utterance interim. */
const EOU_STABILITY = 0.999;

/** The base class's input items: frames and its (protected) flush sentinel symbol. */
type Pending = Promise<IteratorResult<AudioFrame | symbol>>;

export class SpeechStream extends stt.SpeechStream {
  label = 'riva.SpeechStream';
  readonly #opts: STTOptions;
  readonly #channel: RivaChannel;
  readonly #reframer: Reframer;
  #pending: Pending | undefined;
  #recognizer: Recognizer | undefined;
  #speaking = false;
  #usageSamples = 0;
  #lastSentAt = 0;
  #requestId = '';

  readonly #onClose: (() => void) | undefined;

  constructor(
    owner: stt.STT,
    opts: STTOptions,
    channel: RivaChannel,
    connOptions?: ConstructorParameters<typeof stt.SpeechStream>[2],
    onClose?: () => void,
  ) {
    super(owner, opts.sampleRate, connOptions);
    this.#onClose = onClose;
    this.#opts = opts;
    this.#channel = channel;
    this.#reframer = new Reframer(Math.round((opts.sampleRate * opts.chunkMs) / 1000));
  }

  /** StreamingRecognize calls opened so far (1 + reconnects). */
  get callCount(): number {
    return this.#recognizer?.calls ?? 0;
  }

  override close(): void {
    super.close();
    this.#onClose?.();
  }

  protected async run(): Promise<void> {
    const o = this.#opts;
    this.#requestId = crypto.randomUUID();
    const recognizer = new Recognizer({
      channel: this.#channel,
      config: buildStreamingConfig(o),
      sampleRate: o.sampleRate,
      replayBufferMs: o.replayBufferMs,
      maxBufferedAudioMs: o.maxBufferedAudioMs,
      reconnect: o.reconnect,
      resultTimeoutMs: o.resultTimeoutMs,
      observer: o.observer,
      signal: this.abortSignal,
      onResult: (r, callStart) => this.#onResult(r, callStart),
    });
    this.#recognizer = recognizer;
    this.#lastSentAt = performance.now();
    // If recognition fails for good, stop waiting for input so run() can rethrow promptly.
    const failed = recognizer.done.then(
      () => undefined,
      (e: unknown) => ({ error: e }),
    );
    const ka = o.keepaliveIntervalMs;
    // Idle input (muted caller, detached track): Riva times idle streams out, so feed it silence.
    const keepalive =
      ka > 0
        ? setInterval(
            () => {
              if (performance.now() - this.#lastSentAt >= ka) {
                this.#send(recognizer, Buffer.alloc(this.#reframer.chunkSamples * 2), false);
              }
            },
            Math.max(10, Math.floor(ka / 4)),
          )
        : undefined;
    // The open gRPC call keeps the process alive while it matters; this timer alone must not.
    keepalive?.unref();
    // The keepalive stops with the input: nothing may follow the half-close.
    const pump = this.#pumpInput(recognizer, failed, () => clearInterval(keepalive));
    pump.catch(() => {});
    try {
      // On a final failure this rejects at once; the pump then parks on its pending read (kept for a re-run).
      await Promise.race([
        pump.then(() => recognizer.done),
        failed.then((f) => f && Promise.reject(f.error)),
      ]);
    } finally {
      clearInterval(keepalive);
      this.#emitUsage();
      if (this.#speaking) {
        // Input ended mid-utterance without a final: close the turn so the framework is not left waiting.
        this.#speaking = false;
        this.#put({ type: stt.SpeechEventType.END_OF_SPEECH, requestId: this.#requestId });
      }
    }
  }

  async #pumpInput(
    rec: Recognizer,
    failed: Promise<{ error: unknown } | undefined>,
    beforeEnd: () => void,
  ): Promise<void> {
    let stop = false;
    void failed.then((f) => {
      if (f) stop = true;
    });
    while (!stop && !this.abortSignal.aborted) {
      this.#pending ??= this.input.next();
      const next = await this.#pending;
      // Recognition failed while we waited: leave the read pending for a re-run rather than eat a frame.
      if (stop) return;
      this.#pending = undefined;
      if (next.done) break;
      const item = next.value;
      if (typeof item === 'symbol') {
        const tail = this.#reframer.flush();
        if (tail) this.#send(rec, tail, true);
        continue;
      }
      for (const chunk of this.#reframer.write(toMono(item))) this.#send(rec, chunk, true);
    }
    beforeEnd();
    const tail = this.#reframer.flush();
    if (tail && !stop) this.#send(rec, tail, true);
    rec.endInput();
  }

  #send(rec: Recognizer, chunk: Buffer, caller: boolean): void {
    rec.pushAudio(chunk);
    this.#lastSentAt = performance.now();
    if (!caller) return;
    this.#usageSamples += chunk.length >> 1;
    if (this.#usageSamples >= USAGE_EVERY_SEC * this.#opts.sampleRate) this.#emitUsage();
  }

  #emitUsage(): void {
    if (this.#usageSamples === 0 || this.queue.closed) return;
    this.queue.put({
      type: stt.SpeechEventType.RECOGNITION_USAGE,
      requestId: this.#requestId,
      recognitionUsage: { audioDuration: this.#usageSamples / this.#opts.sampleRate },
    });
    this.#usageSamples = 0;
  }

  #put(ev: stt.SpeechEvent): void {
    if (!this.queue.closed) this.queue.put(ev);
  }

  #onResult(r: StreamingRecognitionResult__Output, callStart: number): void {
    const o = this.#opts;
    const rate = o.sampleRate;
    const processed = r.audio_processed ?? 0;
    const ctx = {
      language: o.language,
      offsetSec: callStart / rate + this.startTimeOffset,
      audioProcessedSec: processed,
      diarization: o.diarization !== undefined,
    };
    const alts = (r.alternatives ?? []).filter((a) => (a.transcript ?? '').trim() !== '');
    const rec = this.#recognizer!;
    if (r.is_final) {
      // What the final covers is never replayed: up to `audio_processed`, else everything sent so far.
      const commitAt = processed > 0 ? callStart + Math.round(processed * rate) : rec.buffer.end;
      if (alts.length > 0) {
        const endPos = callStart + Math.round(speechEndSec(alts[0], processed) * rate);
        const chunk = rec.buffer.find(Math.max(callStart, endPos - 1));
        if (chunk?.sentAt !== undefined) {
          notify(o.observer, 'asrFinalLatency', (performance.now() - chunk.sentAt) / 1000);
        }
        this.#startSpeech();
        const data = alts.map((a) => toSpeechData(a, ctx));
        this.#put({
          type: stt.SpeechEventType.FINAL_TRANSCRIPT,
          requestId: this.#requestId,
          alternatives: [data[0]!, ...data.slice(1)],
        });
      }
      rec.commit(commitAt);
      if (this.#speaking) {
        this.#speaking = false;
        this.#put({ type: stt.SpeechEventType.END_OF_SPEECH, requestId: this.#requestId });
      }
      return;
    }
    if (alts.length === 0) return;
    this.#startSpeech();
    const data = alts.map((a) => toSpeechData(a, ctx));
    const preflight = o.preflightOnEou && (r.stability ?? 0) >= EOU_STABILITY;
    this.#put({
      type: preflight ? stt.SpeechEventType.PREFLIGHT_TRANSCRIPT : stt.SpeechEventType.INTERIM_TRANSCRIPT,
      requestId: this.#requestId,
      alternatives: [data[0]!, ...data.slice(1)],
    });
  }

  #startSpeech(): void {
    if (this.#speaking) return;
    this.#speaking = true;
    this.#put({ type: stt.SpeechEventType.START_OF_SPEECH, requestId: this.#requestId });
  }
}

/** Frames are mono in practice; average channels if not (Riva takes mono only). */
function toMono(f: AudioFrame): Int16Array {
  const data = f.data.subarray(0, f.samplesPerChannel * f.channels);
  if (f.channels <= 1) return data;
  const out = new Int16Array(f.samplesPerChannel);
  for (let i = 0; i < f.samplesPerChannel; i++) {
    let s = 0;
    for (let c = 0; c < f.channels; c++) s += data[i * f.channels + c]!;
    out[i] = Math.round(s / f.channels);
  }
  return out;
}
