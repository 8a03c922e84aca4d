/**
 * Riva text-to-speech for `@livekit/agents`.
 *
 * `SynthesizeStream` (one per agent reply) splits the reply into sentences and sends one
 * `SynthesizeOnline` per sentence — not one per reply — because a call may carry only one request (old
 * servers drop the rest) and waiting for the whole reply would add the LLM's full generation time to
 * first audio. Up to `prefetch` sentences are synthesized ahead so playback has no gaps; audio is
 * emitted strictly in order. SSML (`<speak>…`) is never split. Closing the stream (barge-in) cancels every
 * open gRPC call at once.
 */
import {
  APIConnectionError,
  type APIConnectOptions,
  APIError,
  APITimeoutError,
  AsyncIterableQueue,
  DEFAULT_API_CONNECT_OPTIONS,
  delay,
  intervalForRetry,
  tokenize,
  tts,
} from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { PcmFramer } from './audio-buffer.ts';
import { type RivaChannel, resolveChannel } from './channel.ts';
import { type SynthesisResult, synthesize } from './tts-call.ts';
import {
  buildSynthesisRequest,
  isSsml,
  resolveTTSOptions,
  type TTSInit,
  type TTSOptions,
} from './tts-options.ts';

export type { TTSInit, TTSOptions } from './tts-options.ts';
export { defaultTTSOptions } from './tts-options.ts';

/** Same shape as the framework's SynthesizeStreamStartedTime (not re-exported by its index). */
type StartedTime = { time: number; hrTime: bigint };

/** Frames handed to the framework are 20 ms: small enough for prompt playout, large enough to be cheap. */
const FRAME_MS = 20;

export class TTS extends tts.TTS {
  label = 'riva.TTS';
  #opts: TTSOptions;
  readonly #channel: RivaChannel;
  readonly #ownsChannel: boolean;
  /** Set once the server answered UNIMPLEMENTED to SynthesizeOnline: go unary from then on. */
  unaryOnly = false;

  /** Throws at once, naming the option, if any option is invalid or the Riva url is malformed. */
  constructor(opts: TTSInit) {
    const o = resolveTTSOptions(opts);
    super(o.sampleRate, 1, { streaming: true });
    this.#opts = o;
    const { channel, owned } = resolveChannel(o.connection);
    this.#channel = channel;
    this.#ownsChannel = owned;
  }

  override get model(): string {
    return this.#opts.voice || 'riva-default';
  }

  override get provider(): string {
    return 'nvidia-riva';
  }

  get options(): Readonly<TTSOptions> {
    return this.#opts;
  }

  get channel(): RivaChannel {
    return this.#channel;
  }

  /** Voice, language, dictionary… for later requests. The sample rate is fixed at construction. */
  updateOptions(opts: Partial<Omit<TTSOptions, 'connection' | 'sampleRate'>>): void {
    this.#opts = resolveTTSOptions({ ...this.#opts, ...opts, connection: this.#opts.connection });
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): ChunkedStream {
    return new ChunkedStream(this, text, this.#opts, this.#channel, connOptions, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): SynthesizeStream {
    return new SynthesizeStream(this, this.#opts, this.#channel, options?.connOptions);
  }

  override async close(): Promise<void> {
    if (this.#ownsChannel) this.#channel.close();
  }

  /**
   * One request, retried here (not by the framework) while no audio has arrived and the error is
   * retryable. Whatever it throws is final: the framework re-running a stream would repeat or lose text.
   * @internal
   */
  async _request(
    text: string,
    signal: AbortSignal,
    conn: APIConnectOptions | undefined,
    onAudio: (pcm: Buffer) => void,
    onSent?: () => void,
  ): Promise<SynthesisResult> {
    const o = this.#opts;
    const req = buildSynthesisRequest(o, text);
    const retry = conn ?? DEFAULT_API_CONNECT_OPTIONS;
    for (let attempt = 0; ; attempt++) {
      let gotAudio = false;
      onSent?.();
      try {
        const res = await synthesize(this.#channel, req, {
          signal,
          firstAudioTimeoutMs: o.firstAudioTimeoutMs,
          observer: o.observer,
          unary: this.unaryOnly,
          unaryFallback: o.unaryFallback,
          onAudio: (pcm) => {
            gotAudio = true;
            onAudio(pcm);
          },
        });
        if (res.usedUnaryFallback) this.unaryOnly = true;
        return res;
      } catch (e) {
        // Retrying after audio went out would repeat words; retrying a config error cannot help.
        if (
          !(e instanceof APIError) ||
          !e.retryable ||
          gotAudio ||
          attempt >= retry.maxRetry ||
          signal.aborted
        ) {
          throw finalError(e);
        }
        await delay(intervalForRetry(retry, attempt), { signal }).catch(() => {});
      }
    }
  }
}

/** The same error, marked non-retryable so the framework does not re-run the stream on top of our retries. */
function finalError(e: unknown): unknown {
  if (!(e instanceof APIError) || !e.retryable) return e;
  const options = { retryable: false };
  return e instanceof APITimeoutError
    ? new APITimeoutError({ message: e.message, options })
    : new APIConnectionError({ message: e.message, options });
}

/** Splits text longer than `max` at word boundaries (SSML is never split). */
export function splitLong(text: string, max: number): string[] {
  if (text.length <= max || isSsml(text)) return [text];
  const out: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) out.push(rest);
  return out;
}

/** Turns Riva PCM into framework frames, holding one back so the last can be marked final. */
class FrameEmitter {
  readonly #framer: PcmFramer;
  #held: AudioFrame | undefined;
  constructor(
    readonly sampleRate: number,
    readonly put: (frame: AudioFrame, final: boolean) => void,
  ) {
    this.#framer = new PcmFramer(Math.round((sampleRate * FRAME_MS) / 1000));
  }
  write(pcm: Buffer): void {
    for (const s of this.#framer.write(pcm)) this.#push(s);
  }
  #push(samples: Int16Array): void {
    if (this.#held) this.put(this.#held, false);
    this.#held = new AudioFrame(samples, this.sampleRate, 1, samples.length);
  }
  /** Ends a segment: the last frame goes out with `final: true`. */
  end(): void {
    const tail = this.#framer.flush();
    if (tail) this.#push(tail);
    if (this.#held) this.put(this.#held, true);
    this.#held = undefined;
  }
}

export class ChunkedStream extends tts.ChunkedStream {
  label = 'riva.ChunkedStream';
  readonly #tts: TTS;
  readonly #opts: TTSOptions;
  readonly #conn: APIConnectOptions | undefined;

  constructor(
    owner: TTS,
    text: string,
    opts: TTSOptions,
    _channel: RivaChannel,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ) {
    super(text, owner, connOptions, abortSignal);
    this.#tts = owner;
    this.#opts = opts;
    this.#conn = connOptions;
  }

  protected async run(): Promise<void> {
    const requestId = crypto.randomUUID();
    const out = new FrameEmitter(this.#opts.sampleRate, (frame, final) => {
      if (!this.queue.closed) this.queue.put({ requestId, segmentId: requestId, frame, final });
    });
    for (const part of splitLong(this.inputText, this.#opts.maxChunkChars)) {
      const res = await this.#tts._request(part, this.abortSignal, this.#conn, (pcm) => out.write(pcm));
      if (res.aborted) return;
    }
    out.end();
  }
}

interface SentenceJob {
  kind: 'sentence';
  segmentId: string;
  audio: AsyncIterableQueue<Buffer>;
  /** When the request went out (anchors the framework's TTFB). */
  sent: Promise<StartedTime>;
  done: Promise<SynthesisResult>;
}
type WorkItem = SentenceJob | { kind: 'end'; segmentId: string };

export class SynthesizeStream extends tts.SynthesizeStream {
  label = 'riva.SynthesizeStream';
  readonly #tts: TTS;
  readonly #opts: TTSOptions;
  // retainFormat: tokens concatenate back to the input, so the unfinished tail keeps its spaces.
  readonly #tokenizer = new tokenize.basic.SentenceTokenizer({ retainFormat: true });
  #slots: number;
  readonly #waiters: (() => void)[] = [];

  constructor(owner: TTS, opts: TTSOptions, _channel: RivaChannel, connOptions?: APIConnectOptions) {
    super(owner, connOptions);
    this.#tts = owner;
    this.#opts = opts;
    this.#slots = opts.prefetch;
  }

  protected async run(): Promise<void> {
    const work = new AsyncIterableQueue<WorkItem>();
    // Cancels this run's calls: on close/barge-in (the stream's signal) or when one request fails for good.
    const run = new AbortController();
    const onAbort = (): void => run.abort();
    this.abortSignal.addEventListener('abort', onAbort, { once: true });
    const producer = this.#produce(work, run.signal).finally(() => {
      if (!work.closed) work.close();
    });
    try {
      await this.#consume(work);
      await producer;
    } catch (e) {
      // Do not wait for more text: report now. The producer stops at its next input item.
      run.abort();
      throw e;
    } finally {
      this.abortSignal.removeEventListener('abort', onAbort);
    }
  }

  /** Reads text, cuts it into sentences and starts their requests (at most `prefetch` at a time). */
  async #produce(work: AsyncIterableQueue<WorkItem>, signal: AbortSignal): Promise<void> {
    let buf = '';
    let segmentId = crypto.randomUUID();
    const emit = (text: string): void => {
      for (const part of splitLong(text, this.#opts.maxChunkChars)) {
        if (part.trim()) work.put(this.#start(part, segmentId, signal));
      }
    };
    for await (const item of this.input) {
      if (signal.aborted) return;
      if (typeof item === 'symbol') {
        if (buf.trim()) emit(buf.trim());
        buf = '';
        work.put({ kind: 'end', segmentId });
        segmentId = crypto.randomUUID();
        continue;
      }
      buf += item;
      const head = buf.trimStart();
      // SSML must reach Riva whole; and wait until we know whether the text is SSML at all.
      if (isSsml(head) || (head.length < 6 && '<speak'.startsWith(head.toLowerCase()))) continue;
      const sentences = this.#tokenizer.tokenize(buf);
      if (sentences.length > 1) {
        for (const s of sentences.slice(0, -1)) emit(s.trim());
        buf = sentences[sentences.length - 1]!;
      }
    }
    // Input ended without a flush (the base class normally flushes first): close the last segment.
    if (buf.trim()) {
      emit(buf.trim());
      work.put({ kind: 'end', segmentId });
    }
  }

  #start(text: string, segmentId: string, signal: AbortSignal): SentenceJob {
    const audio = new AsyncIterableQueue<Buffer>();
    let markSent!: (t: StartedTime) => void;
    const sent = new Promise<StartedTime>((r) => {
      markSent = r;
    });
    const done = (async () => {
      await this.#acquire();
      try {
        return await this.#tts._request(
          text,
          signal,
          this.connOptions,
          (pcm) => {
            if (!audio.closed) audio.put(pcm);
          },
          () => markSent({ time: performance.now() / 1000, hrTime: process.hrtime.bigint() }),
        );
      } finally {
        markSent({ time: performance.now() / 1000, hrTime: process.hrtime.bigint() });
        this.#release();
        if (!audio.closed) audio.close();
      }
    })();
    done.catch(() => {});
    return { kind: 'sentence', segmentId, audio, sent, done };
  }

  /** Emits audio in order; the last frame of each flushed segment is `final` (closes its metrics). */
  async #consume(work: AsyncIterableQueue<WorkItem>): Promise<void> {
    let segmentStarted = false;
    const out = new FrameEmitter(this.#opts.sampleRate, (frame, final) => {
      if (!this.queue.closed)
        this.queue.put({ requestId: this.#requestId, segmentId: this.#segmentId, frame, final });
    });
    for await (const item of work) {
      if (this.abortSignal.aborted) return;
      this.#segmentId = item.segmentId;
      if (item.kind === 'end') {
        out.end();
        segmentStarted = false;
        continue;
      }
      if (!segmentStarted) {
        // The base class closes the previous segment's metrics when its reader reaches that segment's
        // final frame, and ignores markStarted() until then: let it catch up (a few event-loop turns).
        for (let i = 0; i < 200 && this.startedTime !== undefined && !this.abortSignal.aborted; i++) {
          await new Promise((r) => setImmediate(r));
        }
        // Anchor TTFB on when this segment's first request really went out (it may have been prefetched).
        this.markStarted(await item.sent);
        segmentStarted = true;
      }
      for await (const pcm of item.audio) {
        if (this.abortSignal.aborted) return;
        out.write(pcm);
      }
      const res = await item.done;
      if (res.aborted) return;
    }
    if (!this.queue.closed) this.queue.put(tts.SynthesizeStream.END_OF_STREAM);
  }

  #requestId = crypto.randomUUID();
  #segmentId = '';

  async #acquire(): Promise<void> {
    if (this.#slots > 0) {
      this.#slots--;
      return;
    }
    await new Promise<void>((r) => this.#waiters.push(r));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#slots++;
  }
}
