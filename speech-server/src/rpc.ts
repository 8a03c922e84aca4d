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
