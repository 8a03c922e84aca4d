/**
 * gRPC plumbing shared by the ASR and TTS services: Riva-style status errors and the stream limit.
 */
import * as grpc from '@grpc/grpc-js';

/** An error carrying the gRPC status the client should see. Only these details reach clients. */
export class RpcError extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, details: string) {
    super(details);
    this.name = 'RpcError';
    this.code = code;
  }
}

export const invalidArgument = (details: string) => new RpcError(grpc.status.INVALID_ARGUMENT, details);

/** Converts anything thrown into the object grpc-js sends as a status (never a stack or raw text). */
export function toStatus(err: unknown): Partial<grpc.StatusObject> & { code: grpc.status; details: string } {
  if (err instanceof RpcError) return { code: err.code, details: err.message, metadata: new grpc.Metadata() };
  return {
    code: grpc.status.INTERNAL,
    details: 'internal error in the speech server',
    metadata: new grpc.Metadata(),
  };
}

/** What a stream gets when its client has gone quiet (Riva clients reconnect on DEADLINE_EXCEEDED). */
export const idleTimeout = (ms: number) =>
  new RpcError(
    grpc.status.DEADLINE_EXCEEDED,
    `stream closed: nothing received for ${ms} ms (SPEECH_SERVER_IDLE_TIMEOUT_MS)`,
  );

/**
 * A stream's idle timer: `arm()` (re)starts it whenever the server is waiting for the client, `disarm()`
 * stops it while the server itself is working or once the stream is over. It never keeps the process up.
 */
export class IdleTimer {
  readonly #ms: number;
  readonly #onIdle: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
  }

  arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onIdle, this.#ms);
    this.#timer.unref();
  }

  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Counts concurrent speech RPCs (ASR and TTS together). Past the limit new calls get
 * RESOURCE_EXHAUSTED, and while draining they get UNAVAILABLE so clients retry elsewhere.
 */
export class StreamSlots {
  readonly max: number;
  #active = 0;
  #draining = false;
  #idleWaiters: Array<() => void> = [];

  constructor(max: number) {
    this.max = max;
  }

  get active(): number {
    return this.#active;
  }

  /** Returns a release function, or throws the status to send. */
  acquire(): () => void {
    if (this.#draining) throw new RpcError(grpc.status.UNAVAILABLE, 'speech server is shutting down');
    if (this.#active >= this.max) {
      throw new RpcError(
        grpc.status.RESOURCE_EXHAUSTED,
        `speech server is at its limit of ${this.max} concurrent streams`,
      );
    }
    this.#active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      if (this.#active === 0) for (const w of this.#idleWaiters.splice(0)) w();
    };
  }

  drain(): void {
    this.#draining = true;
  }

  /** Resolves when no stream is open. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
