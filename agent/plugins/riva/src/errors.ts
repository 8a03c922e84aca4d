/**
 * Maps gRPC failures onto the framework's error classes so its retry logic and `error` events behave:
 * connection-type codes become retryable `APIConnectionError`s, the rest `APIStatusError`s with an
 * HTTP-like status. Messages carry the target and status name, never metadata (the API key).
 */
import { type ServiceError, status as Status } from '@grpc/grpc-js';
import { APIConnectionError, type APIError, APIStatusError, APITimeoutError } from '@livekit/agents';

/** Codes that say "this server or the network hiccuped", worth a reconnect. */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.INTERNAL,
  Status.UNKNOWN,
  Status.CANCELLED,
]);

/** Codes that mean the request or credentials are wrong: retrying cannot help on a fresh stream. */
export const FATAL_CODES: ReadonlySet<number> = new Set([
  Status.INVALID_ARGUMENT,
  Status.UNAUTHENTICATED,
  Status.PERMISSION_DENIED,
  Status.UNIMPLEMENTED,
  Status.NOT_FOUND,
  Status.FAILED_PRECONDITION,
  Status.OUT_OF_RANGE,
]);

const HTTP_LIKE: Record<number, number> = {
  [Status.INVALID_ARGUMENT]: 400,
  [Status.FAILED_PRECONDITION]: 400,
  [Status.OUT_OF_RANGE]: 400,
  [Status.UNAUTHENTICATED]: 401,
  [Status.PERMISSION_DENIED]: 403,
  [Status.NOT_FOUND]: 404,
  [Status.ABORTED]: 409,
  [Status.RESOURCE_EXHAUSTED]: 429,
  [Status.CANCELLED]: 499,
  [Status.UNIMPLEMENTED]: 501,
  [Status.UNAVAILABLE]: 503,
  [Status.DEADLINE_EXCEEDED]: 504,
};

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

/** gRPC status code of an error, or UNKNOWN. */
export function statusOf(e: unknown): number {
  return isServiceError(e) ? e.code : Status.UNKNOWN;
}

/** `unavailable`, `deadline_exceeded`, …: used for observer kinds and reconnect reasons. */
export function statusName(code: number): string {
  return (Status[code] ?? 'UNKNOWN').toLowerCase();
}

/** Converts any failure of a Riva call into a framework `APIError` naming the call and target. */
export function toAPIError(e: unknown, what: string, target: string): APIError {
  const code = statusOf(e);
  const details = isServiceError(e) ? e.details || e.message : e instanceof Error ? e.message : String(e);
  const message = `Riva ${what} at ${target} failed: ${Status[code] ?? 'UNKNOWN'} (${details})`;
  if (code === Status.DEADLINE_EXCEEDED)
    return new APITimeoutError({ message, options: { retryable: true } });
  if (code === Status.UNAVAILABLE || code === Status.ABORTED || code === Status.UNKNOWN) {
    return new APIConnectionError({ message, options: { retryable: true } });
  }
  return new APIStatusError({
    message,
    options: { statusCode: HTTP_LIKE[code] ?? 500, retryable: TRANSIENT_CODES.has(code) },
  });
}
