/** Liveness, readiness (database reachable) and Prometheus metrics. */
import { Hono } from 'hono';
import type { Registry } from '../../../common/src/metrics.ts';
import { renderMetrics } from '../../../common/src/metrics.ts';
import type { Db } from '../db/db.ts';
import type { AppEnv } from '../types.ts';

export function healthRouter(deps: { db: Db; registry: Registry; isShuttingDown: () => boolean }) {
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      if (deps.isShuttingDown()) return c.json({ status: 'shutting_down' }, 503);
      const ok = await deps.db.ping(2_000);
      return c.json({ status: ok ? 'ready' : 'database_unreachable' }, ok ? 200 : 503);
    })
    .get('/metrics', async (c) => {
      const { contentType, body } = await renderMetrics(deps.registry);
      return c.body(body, 200, { 'content-type': contentType });
    });
}
