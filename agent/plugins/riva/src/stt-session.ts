/**
 * Keeps one logical recognition alive across many `StreamingRecognize` calls. A dropped, failed,
 * server-closed or stalled (open but silent, see `ResultWatchdog`) call is reopened with backoff and the
 * audio since the last final is replayed into it, so the caller's words survive. Only configuration-type
 * errors on a stream that never worked, or running out of `reconnect.maxAttempts`, end it.
 *
 * Timeline: every chunk has a position in samples since the stream began. A call started when the
 * buffer's oldest chunk was at position P maps Riva's stream-local times t to P + t.
 */
import { type ClientDuplexStream, status as Status } from '@grpc/grpc-js';
import { APIConnectionError, log } from '@livekit/agents';
import type {
  StreamingRecognitionConfig,
  StreamingRecognitionResult__Output,
  StreamingRecognizeRequest,
  StreamingRecognizeResponse__Output,
} from '../../../../proto/src/index.ts';
import { ReplayBuffer } from './audio-buffer.ts';
import type { RivaChannel } from './channel.ts';
import { FATAL_CODES, statusName, statusOf, toAPIError } from './errors.ts';
import { notify, type RivaObserver } from './observer.ts';
import type { ReconnectOptions } from './stt-options.ts';
import { ResultWatchdog } from './stt-watchdog.ts';

type Call = ClientDuplexStream<StreamingRecognizeRequest, StreamingRecognizeResponse__Output>;

export interface RecognizerOptions {
  channel: RivaChannel;
  config: StreamingRecognitionConfig;
  sampleRate: number;
  replayBufferMs: number;
  maxBufferedAudioMs: number;
  reconnect: ReconnectOptions;
  /** A call owed a result gets none for this long (wall time and sent audio): reopened. 0 = off. */
  resultTimeoutMs: number;
  observer: RivaObserver | undefined;
  /** A stream that lived this long counts as healthy even without results (resets the attempt count). */
  healthyAfterMs?: number;
  signal: AbortSignal;
  /** Called for every result with the timeline position (samples) where the current call began. */
  onResult(result: StreamingRecognitionResult__Output, callStart: number): void;
}

type Outcome =
  | { kind: 'ended'; healthy: boolean }
  | { kind: 'error'; error: unknown; healthy: boolean }
  | { kind: 'stalled'; healthy: boolean };

export class Recognizer {
  readonly buffer: ReplayBuffer;
  readonly #o: RecognizerOptions;
  readonly #log = log().child({ plugin: 'riva', component: 'stt' });
  #call: Call | undefined;
  #watchdog: ResultWatchdog | undefined;
  #callStart = 0;
  #inputEnded = false;
  #everHealthy = false;
  #calls = 0;
  readonly done: Promise<void>;

  constructor(o: RecognizerOptions) {
    this.#o = o;
    const perMs = o.sampleRate / 1000;
    this.buffer = new ReplayBuffer(
      Math.round(o.replayBufferMs * perMs),
      Math.round(o.maxBufferedAudioMs * perMs),
    );
    this.done = this.#loop();
    // The loop's rejection is observed by whoever awaits `done`; avoid an unhandled rejection until then.
    this.done.catch(() => {});
  }

  /** Number of StreamingRecognize calls opened so far. */
  get calls(): number {
    return this.#calls;
  }

  /** Appends a chunk to the timeline and writes it to the open call, if any. */
  pushAudio(chunk: Buffer): void {
    // After the half-close nothing may be written (grpc-js would fail the call with "write after end").
    if (this.#inputEnded) return;
    const call = this.#call;
    const sentAt = call ? performance.now() : undefined;
    const dropped = this.buffer.push(chunk, sentAt);
    if (dropped > 0) notify(this.#o.observer, 'audioDropped', (dropped / this.#o.sampleRate) * 1000);
    if (call) {
      call.write({ audio_content: chunk });
      this.#watchdog?.onSent(chunk);
    }
  }

  /** Forgets audio up to a position the server has finalized (it will not be replayed). */
  commit(position: number): void {
    this.buffer.commit(position);
  }

  /** No more audio: half-close the open call so Riva flushes its last final, then finish. */
  endInput(): void {
    this.#inputEnded = true;
    this.#call?.end();
    this.#watchdog?.onHalfClose();
  }

  async #loop(): Promise<void> {
    const { reconnect, signal } = this.#o;
    let failures = 0;
    while (!signal.aborted) {
      const outcome = await this.#runCall();
      // A closed channel means the owner (STT.close) is shutting down: nothing to reconnect to.
      if (signal.aborted || this.#o.channel.closed) return;
      if (outcome.healthy) {
        this.#everHealthy = true;
        failures = 0;
      }
      if (outcome.kind === 'ended') {
        // A normal end after our half-close is the finish line. An end we did not ask for (server
        // restart, idle timeout, LB drain) is a drop like any other: at once after a healthy stream,
        // with backoff if streams keep ending straight away (no hot loop against a broken server).
        if (this.#inputEnded) return;
        if (outcome.healthy) {
          this.#reopen('server_closed');
          continue;
        }
      }
      const code = outcome.kind === 'error' ? statusOf(outcome.error) : Status.OK;
      const reason = { error: statusName(code), stalled: 'stalled', ended: 'server_closed' }[outcome.kind];
      if (outcome.kind !== 'ended') notify(this.#o.observer, 'streamError', `asr.${reason}`);
      if (outcome.kind === 'error' && FATAL_CODES.has(code) && !this.#everHealthy) {
        // Wrong model/language, bad key, unsupported: a retry storm would only hide it.
        throw toAPIError(outcome.error, 'StreamingRecognize', this.#o.channel.target);
      }
      failures++;
      if (failures > reconnect.maxAttempts) {
        const last = toAPIError(this.#cause(outcome), 'StreamingRecognize', this.#o.channel.target);
        throw new APIConnectionError({
          message: `${last.message}; gave up after ${failures} attempts`,
          options: { retryable: false },
        });
      }
      const delay = Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * 2 ** (failures - 1));
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
      this.#log.warn(
        {
          target: this.#o.channel.target,
          code: outcome.kind === 'stalled' ? 'STALLED' : Status[code],
          attempt: failures,
          delayMs: jittered,
        },
        'riva recognition stream failed, reconnecting',
      );
      await sleep(failures === 1 ? Math.min(jittered, reconnect.initialDelayMs) : jittered, signal);
      if (signal.aborted) return;
      this.#reopen(reason);
    }
  }

  #cause(outcome: Outcome): unknown {
    if (outcome.kind === 'error') return outcome.error;
    if (outcome.kind === 'ended') return new Error('server ended the stream at once');
    // A stall is a missed deadline: "failed: DEADLINE_EXCEEDED (stream stalled: no result for …)".
    const details = `stream stalled: no result for ${this.#o.resultTimeoutMs} ms`;
    return Object.assign(new Error(details), { code: Status.DEADLINE_EXCEEDED, details });
  }

  #reopen(reason: string): void {
    notify(this.#o.observer, 'reconnect', reason);
    const truncated = this.buffer.truncatedSamples;
    if (truncated > 0) {
      // Sent audio that aged out of the replay window: its words cannot be recovered.
      notify(this.#o.observer, 'audioDropped', (truncated / this.#o.sampleRate) * 1000);
      this.buffer.clearTruncated();
    }
    const dropped = this.buffer.markAllUnsent();
    if (dropped > 0) notify(this.#o.observer, 'audioDropped', (dropped / this.#o.sampleRate) * 1000);
  }

  #runCall(): Promise<Outcome> {
    const { channel, signal } = this.#o;
    this.#calls++;
    const openedAt = performance.now();
    let gotData = false;
    let call: Call;
    try {
      call = channel.asr.StreamingRecognize(channel.metadata(), {});
    } catch (error) {
      return Promise.resolve({ kind: 'error', error, healthy: false });
    }
    this.#call = call;
    this.#callStart = this.buffer.start;
    const callStart = this.#callStart;

    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const finish = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        watchdog.stop();
        signal.removeEventListener('abort', onAbort);
        if (this.#call === call) {
          this.#call = undefined;
          this.#watchdog = undefined;
        }
        resolve(o);
      };
      const healthy = (): boolean =>
        gotData || performance.now() - openedAt >= (this.#o.healthyAfterMs ?? 2000);
      const onAbort = (): void => {
        // Session closed: drop the call at once rather than waiting for Riva.
        call.cancel();
        finish({ kind: 'ended', healthy: true });
      };
      const watchdog = new ResultWatchdog({
        timeoutMs: this.#o.resultTimeoutMs,
        sampleRate: this.#o.sampleRate,
        interimResults: this.#o.config.interim_results === true,
        onStall: () => {
          this.#log.warn(
            { target: channel.target, resultTimeoutMs: this.#o.resultTimeoutMs },
            'riva recognition stream stalled (open, but no result), reopening',
          );
          // Settle first: the CANCELLED error the cancel raises is then ignored.
          finish({ kind: 'stalled', healthy: gotData });
          call.cancel();
        },
      });
      this.#watchdog = watchdog;
      signal.addEventListener('abort', onAbort, { once: true });
      call.on('data', (res: StreamingRecognizeResponse__Output) => {
        if (settled) return;
        gotData = true;
        watchdog.onResponse(res.results ?? []);
        for (const r of res.results ?? []) {
          try {
            this.#o.onResult(r, callStart);
          } catch (e) {
            this.#log.error({ err: e }, 'riva result handler failed');
          }
        }
      });
      call.on('error', (error: Error) => finish({ kind: 'error', error, healthy: healthy() }));
      call.on('end', () => finish({ kind: 'ended', healthy: healthy() }));
      // Riva's contract: the first message carries only the config, every later one only audio.
      call.write({ streaming_config: this.#o.config });
      const now = performance.now();
      for (const c of this.buffer.chunks()) {
        if (settled) return;
        c.sentAt = now;
        call.write({ audio_content: c.data });
        watchdog.onSent(c.data);
      }
      if (this.#inputEnded && !settled) {
        call.end();
        watchdog.onHalfClose();
      }
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
