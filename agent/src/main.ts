/**
 * The LiveKit worker: `npm run agent -- start | dev | console --connect-addr host:port`.
 *
 * Registers under AGENT_NAME for explicit dispatch (the control API dispatches each call), admits
 * jobs by active calls against MAX_CONCURRENT_CALLS, by CPU load against MAX_CPU_LOAD and by the EU
 * region guard, serves metrics and
 * health on METRICS_PORT, and on SIGTERM stops taking jobs and lets live calls finish for up to
 * DRAIN_TIMEOUT_SECONDS (the framework's `start` mode drains, then exits 143). Each call runs in a
 * forked process that loads `job.ts`.
 */
import { fileURLToPath } from 'node:url';
import { cli, ServerOptions } from '@livekit/agents';
import { ConfigError } from '../../common/src/config.ts';
import { createLogger } from '../../common/src/logger.ts';
import { loadAgentConfig } from './config.ts';
import { createCpuLoadSampler } from './cpu-load.ts';
import { createAgentMetrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { checkRegion } from './region-guard.ts';
import { configuredEndpoints, createAdmission } from './worker-admission.ts';

// Built code (dist/) runs job.js; from source (tsx) it is job.ts.
const JOB_ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './job.ts' : './job.js', import.meta.url),
);

async function main(): Promise<void> {
  const config = loadAgentConfig(process.env);
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'agent' });
  const command = process.argv[2];
  const runsWorker = command === 'start' || command === 'dev';

  if (runsWorker) {
    // Refuse to start at all when an endpoint is outside the EU: every job would be refused anyway.
    const verdict = checkRegion(
      { regions: [], endpoints: configuredEndpoints(config) },
      { allowedRegions: config.ALLOWED_REGIONS, allowedHosts: config.ALLOWED_ENDPOINT_HOSTS },
    );
    if (!verdict.allowed) {
      logger.error(
        { reason: verdict.reason, source: verdict.source, value: verdict.value },
        'EU guard: refusing to start',
      );
      // pino writes asynchronously; say it on stderr too so the reason survives the exit.
      process.stderr.write(`agent: EU guard: ${verdict.source} ${verdict.value}: ${verdict.reason}\n`);
      process.exit(2);
    }
    if (!config.RIVA_URL) {
      throw new ConfigError([
        { variable: 'RIVA_URL', message: 'required for the worker (host:port of Riva)' },
      ]);
    }
  }

  const metrics = createAgentMetrics({ collectDefault: true });
  // CPU utilisation over the last ~5 s (the container's quota under cgroup v2, else the machine).
  const cpu = runsWorker && config.CPU_ADMISSION ? createCpuLoadSampler() : undefined;
  const admission = createAdmission({ config, metrics, logger, cpuLoad: cpu?.load });
  if (runsWorker) {
    logger.info(
      { ...cpu?.describe(), cpuAdmission: config.CPU_ADMISSION, maxCpuLoad: config.MAX_CPU_LOAD },
      'cpu load sampling',
    );
    const server = await startMetricsServer({
      port: config.METRICS_PORT,
      registry: metrics.registry,
      logger,
      isReady: () => !admission.draining,
    });
    logger.info({ port: server.port }, 'metrics listening');
    // The framework drains on SIGTERM in `start`; this flips readiness so no new traffic is routed here.
    process.once('SIGTERM', () => {
      admission.setDraining();
      // A draining worker reports itself full and takes no job: the CPU figure is no longer used.
      cpu?.stop();
      logger.info(
        { activeCalls: admission.activeCalls(), drainSeconds: config.DRAIN_TIMEOUT_SECONDS },
        'draining',
      );
    });
  }

  cli.runApp(
    new ServerOptions({
      agent: JOB_ENTRY,
      agentName: config.AGENT_NAME,
      requestFunc: admission.requestFunc,
      loadFunc: admission.loadFunc,
      // Full exactly when active calls reach capacity or the CPU reaches MAX_CPU_LOAD
      // (load = max(active / capacity, cpu / MAX_CPU_LOAD)).
      loadThreshold: 1,
      drainTimeout: config.DRAIN_TIMEOUT_SECONDS * 1000,
      // One process per call; keep one warm so a call starts without loading Silero first.
      numIdleProcesses: 1,
      wsURL: config.LIVEKIT_URL,
      apiKey: config.LIVEKIT_API_KEY,
      apiSecret: config.LIVEKIT_API_SECRET,
      port: config.WORKER_HTTP_PORT,
      logLevel: config.LOG_LEVEL,
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
