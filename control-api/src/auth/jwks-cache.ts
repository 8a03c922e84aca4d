/**
 * The IdP's signing keys (JWKS), fetched at most once per cooldown whatever the tokens ask for. jose's remote
 * key set refetches whenever a token names an unknown `kid` and, while the endpoint fails, on every token: 40
 * tokens with random `kid`s meant 40 fetches. Here a fetch is tried at most once per `cooldownMs`, successful
 * or not (the failure is cached, as is "this kid is unknown"); the last good key set stays in use while the
 * endpoint is down; concurrent requests share one fetch.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface JwksCacheOptions {
  url: string;
  /** Per fetch. */
  timeoutMs?: number;
  /** Least time between two fetches, whatever their outcome. */
  cooldownMs?: number;
  /** A key set older than this is refreshed on the next token (still bounded by the cooldown). */
  maxAgeMs?: number;
  now?: () => number;
}

export class JwksUnavailableError extends Error {
  readonly code = 'JWKS_UNAVAILABLE';
  constructor() {
    super('no signing keys available from the identity provider');
    this.name = 'JwksUnavailableError';
  }
}

export interface JwksCache {
  getKey: JWTVerifyGetKey;
  /** Fetches attempted so far (metrics, tests). */
  readonly fetches: number;
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const now = options.now ?? Date.now;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  let fetches = 0;

  async function load(): Promise<void> {
    fetches += 1;
    attemptedAt = now();
    try {
      const res = await fetch(options.url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      if (!res.ok) return;
      const body = (await res.json()) as JSONWebKeySet;
      keys = createLocalJWKSet(body);
      fetchedAt = now();
    } catch {
      // Unreachable, slow or malformed: keep the last good key set; the cooldown caches the failure.
    }
  }

  /** Fetches if the cooldown allows (sharing a fetch in flight); otherwise keeps what it has. */
  function refresh(): Promise<void> {
    if (inFlight) return inFlight;
    if (now() - attemptedAt < cooldownMs) return Promise.resolve();
    inFlight = load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (!keys || now() - fetchedAt > maxAgeMs) await refresh();
    if (!keys) throw new JwksUnavailableError();
    try {
      return await keys(header, token);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      // Perhaps the IdP rotated its keys: look again, at most once per cooldown.
      const before = keys;
      await refresh();
      if (keys === before) throw err;
      return keys(header, token);
    }
  };

  return {
    getKey,
    get fetches() {
      return fetches;
    },
  };
}
