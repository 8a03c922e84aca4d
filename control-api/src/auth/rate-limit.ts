/**
 * A fixed-window rate limiter kept in memory (per instance). Good enough for one replica and for throttling
 * credential guessing; a shared store would be needed for an exact cluster-wide limit.
 */
export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export function createRateLimiter(options: { limit: number; windowMs: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();

  return {
    hit(key: string): RateLimitResult {
      const t = now();
      let w = windows.get(key);
      if (!w || t - w.start >= options.windowMs) {
        w = { start: t, count: 0 };
        windows.set(key, w);
        // Keep the map bounded: drop expired windows when it grows.
        if (windows.size > 10_000) {
          for (const [k, v] of windows) if (t - v.start >= options.windowMs) windows.delete(k);
        }
      }
      w.count += 1;
      const resetSeconds = Math.max(0, Math.ceil((w.start + options.windowMs - t) / 1000));
      return {
        allowed: w.count <= options.limit,
        limit: options.limit,
        remaining: Math.max(0, options.limit - w.count),
        resetSeconds,
      };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
