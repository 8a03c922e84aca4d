/**
 * Entry point: `npm run control-api`. Reads the environment once, opens the database (PostgreSQL when
 * DATABASE_URL is set, PGlite in DATA_DIR otherwise), migrates, serves on PORT, runs the outbox, reconcile and
 * retention timers, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { mkdirSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { createLogger } from '../../common/src/logger.ts';
import { createMetricsRegistry } from '../../common/src/metrics.ts';
import { createControlApi } from './app.ts';
import { loadControlApiConfig } from './config.ts';
import { migrate, openDb } from './db/db.ts';

async function main(): Promise<void> {
  const config = loadControlApiConfig(process.env);
  const logger = createLogger({ level: config.logLevel, service: 'control-api' });
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db);
  const registry = createMetricsRegistry({ service: 'control-api', collectDefault: true });
  const api = createControlApi({ config, db, logger, registry });
  const { services } = api;

  const server = serve({ fetch: api.app.fetch, port: config.port, hostname: config.host }, (info) => {
    logger.info({ port: info.port, engine: db.engine }, 'control api listening');
  });

  // Outbox rows left by a crash are processed at start; the timers repair missed webhooks and enforce retention.
  void services.webhooks.process();
  // Checks what was appended since the last signed head (or while this instance was down) and advances it.
  void services.audit.witness();
  const system = { id: 'system:scheduler' };
  const timers = [
    setInterval(() => {
      services.reconcile.run().catch((err) => logger.warn({ err }, 'reconcile failed'));
    }, config.reconcileIntervalSeconds * 1000),
    setInterval(() => {
      services.retention.run(system).catch((err) => logger.error({ err }, 'retention run failed'));
    }, config.retentionIntervalMinutes * 60_000),
  ];
  services.retention.run(system).catch((err) => logger.error({ err }, 'retention run failed'));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    api.setShuttingDown();
    for (const t of timers) clearInterval(t);
    const force = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, 15_000);
    force.unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await services.webhooks.stop();
    await services.audit.settle();
    await db.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // Config errors carry a readable message naming each bad variable.
  process.stderr.write(`control-api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
