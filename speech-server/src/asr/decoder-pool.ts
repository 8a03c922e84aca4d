/**
 * Decoder workers: one worker thread per decoder, one stream per decoder at a time. A generic
 * decoder costs ~0.25 s and ~95 MB to load, so a few are kept warm and reused (the decoder is reset
 * between streams); extra ones are started on demand and dropped when idle. `lease()` is
 * synchronous: a stream can post audio at once and the worker processes it after loading.
 *
 * Bounds: a stream's slot is released only when its decoder has loaded and acknowledged the end of
 * its session (`whenIdle`), so there are never more decoders at work than SPEECH_SERVER_MAX_STREAMS;
 * warm-up never loads past that; and spares no load needs are freed soon after a burst, their heap
 * handed back to the kernel (`trimNativeHeap`).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../../common/src/logger.ts';
import { trimNativeHeap } from '../libc.ts';
import type { RecognizerEvent, RecognizerOptions } from './recognizer.ts';
import {
  CTRL_ABORTED,
  CTRL_EXIT,
  type WorkerData,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.ts';

export interface SessionCallbacks {
  onEvent(event: RecognizerEvent): void;
  /** Normal end after finish(); `cpuMs` is the decoding CPU of the final step. */
  onFinished(): void;
  onError(message: string): void;
}

/** Finds tsx's ESM API so a worker started from TypeScript sources can load .ts modules. */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('tsx/package.json');
  return `file://${join(dirname(pkg), 'dist/esm/api/index.mjs')}`;
}

function spawn(data: WorkerData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './decoder-worker.ts' : './decoder-worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: data });
  // Running under tsx or vitest: register tsx inside the worker before importing the TS entry.
  const src = `import { register } from ${JSON.stringify(tsxApiUrl())}; register(); await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`), { workerData: data });
}

let nextSession = 1;

/** One worker and its decoder. */
export class DecoderWorker {
  readonly worker: Worker;
  readonly ready: Promise<number>;
  #dead = false;
  #session: { id: number; callbacks: SessionCallbacks } | undefined;
  /** Resolved when the worker has no session (finished, aborted and acknowledged, or dead). */
  #idleWaiters: Array<() => void> = [];
  /** Total CPU the worker thread has used, as reported on each finished session. */
  cpuMs = 0;
  /** When it last became idle (for trimming the pool). */
  idleSince = 0;
  readonly #onExit: (w: DecoderWorker) => void;

  readonly #control: Int32Array;
  /** Resolves when the worker's thread has ended. */
  readonly exited: Promise<void>;

  constructor(extraArgs: string[], onExit: (w: DecoderWorker) => void) {
    this.#onExit = onExit;
    const control = new SharedArrayBuffer(8);
    this.#control = new Int32Array(control);
    this.worker = spawn({ extraArgs, control });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.unref();
    let resolveReady: (ms: number) => void = () => {};
    let rejectReady: (err: Error) => void = () => {};
    this.ready = new Promise<number>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    // A stream may never await readiness; keep an unobserved failure from becoming unhandled.
    this.ready.catch(() => {});
    this.worker.on('message', (reply: WorkerReply) => {
      switch (reply.type) {
        case 'ready':
          resolveReady(reply.loadMs);
          return;
        case 'fatal':
          rejectReady(new Error(reply.message));
          return;
        default:
          this.#dispatch(reply);
      }
    });
    this.worker.on('error', (err) => {
      rejectReady(err);
      this.#fail(`decoder worker failed: ${err.message}`);
    });
    this.worker.on('exit', () => {
      rejectReady(new Error('decoder worker exited'));
      this.#fail('decoder worker exited');
    });
  }

  get dead(): boolean {
    return this.#dead;
  }

  get busy(): boolean {
    return this.#session !== undefined;
  }

  #fail(message: string): void {
    if (this.#dead) return;
    this.#dead = true;
    const s = this.#session;
    this.#session = undefined;
    s?.callbacks.onError(message);
    this.#onExit(this);
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.#session !== undefined && !this.#dead) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  /**
   * Resolves once the decoder has loaded (or failed) and its current session, if any, is over: the
   * worker can take another stream, or is dead. A decoder still inside ps_init cannot be interrupted,
   * so a stream cancelled during the load keeps its slot until then: that is what bounds the threads.
   */
  async whenIdle(): Promise<void> {
    await this.ready.catch(() => {});
    if (this.#session === undefined || this.#dead) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #dispatch(reply: Exclude<WorkerReply, { type: 'ready' } | { type: 'fatal' }>): void {
    const s = this.#session;
    if (!s || s.id !== reply.session) return;
    if (reply.type === 'event') s.callbacks.onEvent(reply.event);
    else if (reply.type === 'finished') {
      this.cpuMs += reply.cpuMs;
      this.#session = undefined;
      s.callbacks.onFinished();
      this.#notifyIdle();
    } else if (reply.type === 'error') {
      this.#session = undefined;
      s.callbacks.onError(reply.message);
      // The decoder may be in an unknown state after a native error: do not reuse it.
      void this.terminate();
      this.#notifyIdle();
    }
  }

  #post(req: WorkerRequest, transfer?: ArrayBuffer[]): void {
    if (this.#dead) return;
    this.worker.postMessage(req, transfer);
  }

  start(options: RecognizerOptions, callbacks: SessionCallbacks): number {
    const id = nextSession++;
    this.#session = { id, callbacks };
    this.#post({ type: 'start', session: id, options });
    return id;
  }

  audio(session: number, bytes: Uint8Array): void {
    // Copy into a fresh ArrayBuffer we can transfer (gRPC buffers share a pooled slab).
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    this.#post({ type: 'audio', session, bytes: copy.buffer }, [copy.buffer]);
  }

  finish(session: number): void {
    this.#post({ type: 'finish', session });
  }

  /** Cancels the session: no more callbacks for it; the worker resets and becomes free. */
  abort(session: number): void {
    if (this.#session?.id === session) {
      this.#session = { id: session, callbacks: { onEvent() {}, onFinished() {}, onError() {} } };
      Atomics.store(this.#control, CTRL_ABORTED, session);
      this.#post({ type: 'abort', session });
    }
  }

  /**
   * Asks the worker to free its decoder and end; resolves when it has (or after a few seconds if it is
   * stuck in a long native call: it is unref'd and ends by itself when that call returns).
   */
  async terminate(waitMs = 5000): Promise<void> {
    const wasDead = this.#dead;
    this.#dead = true;
    this.#session = undefined;
    this.#notifyIdle();
    Atomics.store(this.#control, CTRL_EXIT, 1);
    if (!wasDead) {
      this.worker.postMessage({ type: 'exit' } satisfies WorkerRequest);
      this.#onExit(this);
    }
    // Hold the event loop while waiting, so stop() really waits for decoders to be freed.
    this.worker.ref();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    this.worker.unref();
  }
}

export interface DecoderPoolOptions {
  /** Idle decoders kept loaded for the next streams. */
  keepWarm: number;
  /** Idle decoders beyond keepWarm are freed after this long (each holds ~95 MB). */
  idleMs?: number;
  /** Most decoders that may exist at once (streams + warm); warm-up never goes past it. */
  maxDecoders?: number;
  /** Extra PocketSphinx flags, e.g. ['-maxhmmpf', '3000'] when CPU-bound. */
  extraArgs?: string[];
  logger?: Logger;
}

const DEFAULT_IDLE_MS = 30_000;
/** Spares the current load could not use (a burst that is over) are freed after idling this long. */
const BURST_IDLE_MS = 1500;
/** How often idle decoders are checked. */
const TRIM_EVERY_MS = 500;

export class DecoderPool {
  readonly #opts: DecoderPoolOptions;
  readonly #idle: DecoderWorker[] = [];
  readonly #all = new Set<DecoderWorker>();
  readonly #leased = new Set<DecoderWorker>();
  readonly #trimTimer: NodeJS.Timeout;
  readonly #idleMs: number;
  #threads = 0;
  #closed = false;

  constructor(options: DecoderPoolOptions) {
    this.#opts = options;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#trimTimer = setInterval(() => this.#trim(), Math.min(TRIM_EVERY_MS, this.#idleMs / 3));
    this.#trimTimer.unref();
  }

  /**
   * Drops the oldest idle decoders beyond keepWarm once they have idled for idleMs, and sooner
   * (BURST_IDLE_MS) those beyond keepWarm + the decoders in use now: a steady load of N calls keeps its
   * N + keepWarm decoders, while a burst that is over (a cancel storm) leaves only the warm ones.
   */
  #trim(): void {
    const now = Date.now();
    while (this.#idle.length > this.#opts.keepWarm) {
      const idleFor = now - this.#idle[0]!.idleSince;
      const unneeded = this.#idle.length > this.#opts.keepWarm + this.#leased.size;
      if (idleFor <= this.#idleMs && !(unneeded && idleFor > BURST_IDLE_MS)) break;
      this.#drop(this.#idle.shift()!);
    }
  }

  /** Starts the warm decoders in the background; resolves when they have loaded. */
  warm(): Promise<void> {
    const starting: Promise<number>[] = [];
    const max = this.#opts.maxDecoders ?? Number.POSITIVE_INFINITY;
    while (this.#idle.length < this.#opts.keepWarm && this.#threads < max) {
      const w = this.#spawn();
      this.#idle.push(w);
      starting.push(w.ready);
    }
    return Promise.all(starting).then(
      (ms) => {
        if (ms.length > 0)
          this.#opts.logger?.debug({ decoders: ms.length, loadMs: Math.max(...ms) }, 'decoders warm');
      },
      (err: unknown) => {
        this.#opts.logger?.error({ err }, 'decoder warm-up failed');
      },
    );
  }

  #spawn(): DecoderWorker {
    const w = new DecoderWorker(this.#opts.extraArgs ?? [], (dead) => {
      this.#all.delete(dead);
      const i = this.#idle.indexOf(dead);
      if (i >= 0) this.#idle.splice(i, 1);
    });
    this.#all.add(w);
    this.#threads++;
    void w.exited.then(() => {
      this.#threads--;
      // The decoder's model tables were freed in that thread's arena; give the pages back.
      trimNativeHeap();
    });
    return w;
  }

  /** Decoder threads that have not ended yet (including ones that are freeing their decoder). */
  get threads(): number {
    return this.#threads;
  }

  /** A decoder for one stream (warm if one is idle). Give it back with release(). */
  lease(): DecoderWorker {
    if (this.#closed) throw new Error('decoder pool closed');
    const w = this.#idle.pop() ?? this.#spawn();
    this.#leased.add(w);
    // Refill in the background so the next stream also starts warm.
    if (this.#idle.length < this.#opts.keepWarm) setImmediate(() => void (this.#closed || this.warm()));
    return w;
  }

  /** Returns a decoder for reuse (#trim frees the ones no load needs). */
  release(w: DecoderWorker): void {
    this.#leased.delete(w);
    if (w.dead) return;
    if (this.#closed || w.busy) {
      this.#drop(w);
      return;
    }
    w.idleSince = Date.now();
    this.#idle.push(w);
  }

  #drop(w: DecoderWorker): void {
    this.#all.delete(w);
    void w.terminate();
  }

  /**
   * Releases a worker whose session may still be aborting: waits for the worker's acknowledgement
   * (a decoder that is still loading acknowledges once loaded). Resolves when the worker is back in
   * the pool or gone, which is when the stream's slot may be given to another stream.
   */
  async releaseWhenIdle(w: DecoderWorker): Promise<void> {
    await w.whenIdle();
    this.release(w);
  }

  get size(): number {
    return this.#all.size;
  }

  /** Frees every decoder; waits at most `waitMs` for their threads to end. */
  async close(waitMs = 5000): Promise<void> {
    this.#closed = true;
    clearInterval(this.#trimTimer);
    const all = [...this.#all];
    this.#all.clear();
    this.#leased.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((w) => w.terminate(waitMs)));
  }
}
