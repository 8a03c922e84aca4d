/**
 * Child process for the SIGTERM test: CALLS live production call sessions (bench-call.ts, minimal Riva server)
 * in one process that is wired like the agent worker's entry (agent/src/main.ts): the real admission
 * (`createAdmission`: capacity, draining) and the real metrics/health server with readiness tied to it. On
 * SIGTERM it does what main.ts does (admission.setDraining(): readiness 503, no new jobs) and then what the
 * framework's `start` mode does (AgentServer.drain: wait for running jobs up to DRAIN_TIMEOUT_SECONDS), and
 * exits 143. It prints JSON lines: `ready`, `draining` (with the admission probes) and `result`.
 */
import type { AgentServer, JobRequest } from '@livekit/agents';
import { dispose } from '@livekit/rtc-node';
import { loadAgentConfig } from '../../../agent/src/config.ts';
import { createAgentMetrics } from '../../../agent/src/metrics.ts';
import { startMetricsServer } from '../../../agent/src/metrics-server.ts';
import { createAdmission } from '../../../agent/src/worker-admission.ts';
import { type BenchCallResult, composeCaller, runBenchCall, speechClips } from '../../support/bench-call.ts';
import { MinimalRivaServer } from '../../support/minimal-riva-server.ts';
import { callKit, sampleCaller } from './calls.ts';

const CALLS = Number(process.env.DRAIN_CALLS ?? 6);
const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

const kit = await callKit();
const config = loadAgentConfig({
  MAX_CONCURRENT_CALLS: '10',
  DRAIN_TIMEOUT_SECONDS: '120',
  LOG_LEVEL: 'error',
});
const metrics = createAgentMetrics();
const admission = createAdmission({ config, metrics, logger: kit.logger });
const health = await startMetricsServer({
  port: 0,
  host: '127.0.0.1',
  registry: metrics.registry,
  logger: kit.logger,
  isReady: () => !admission.draining,
});
const riva = new MinimalRivaServer({
  script: ['I would like to book an appointment', 'at ten in the morning', 'goodbye'],
  ttsMsPerChar: 40,
});
await riva.start();
const [book, bye] = speechClips(sampleCaller());
const caller = composeCaller(16000, [
  { clip: book!, gapMs: 4500 },
  { clip: book!, gapMs: 4500 },
  { clip: bye!, gapMs: 1000 },
]);

let live = 0;
const calls = Array.from({ length: CALLS }, (_, i) => {
  live++;
  return runBenchCall({
    callId: `drain-${i}`,
    caller,
    brain: kit.brain(),
    riva: kit.riva(riva.url),
    settings: kit.settings,
    vad: kit.vad,
    logger: kit.logger,
  }).finally(() => {
    live--;
  });
});
// The worker's view of its jobs, as the framework hands it to loadFunc.
const worker = {
  get activeJobs() {
    return Array.from({ length: live });
  },
} as unknown as AgentServer;
await admission.loadFunc(worker);
out({ ready: true, metricsPort: health.port, calls: CALLS });

process.once('SIGTERM', () => {
  void (async () => {
    const signalledAt = performance.now();
    const liveAtSignal = live;
    admission.setDraining();
    let rejected = false;
    let accepted = false;
    const job = {
      id: 'job-after-sigterm',
      job: { metadata: '' },
      room: { metadata: '' },
      publisher: undefined,
      reject: async () => {
        rejected = true;
      },
      accept: async () => {
        accepted = true;
      },
    } as unknown as JobRequest;
    await admission.requestFunc(job);
    const load = await admission.loadFunc(worker);
    out({ draining: true, liveAtSignal, newJobRejected: rejected, newJobAccepted: accepted, load });
    // The framework's drain: running jobs may finish, up to the drain timeout.
    const deadline = Date.now() + config.DRAIN_TIMEOUT_SECONDS * 1000;
    const results = await Promise.race([
      Promise.all(calls),
      new Promise<BenchCallResult[]>((resolve) =>
        setTimeout(() => resolve([]), deadline - Date.now()).unref(),
      ),
    ]);
    out({
      result: true,
      liveAtSignal,
      drainedMs: Math.round(performance.now() - signalledAt),
      endReasons: results.map((r) => r.endReason),
      turnsAnswered: results.map((r) => r.turns.filter((t) => t.voiceToVoiceMs !== null).length),
      outputLate: results.reduce((n, r) => n + r.output.late, 0),
    });
    await riva.stop();
    await health.close();
    await dispose();
    process.exit(143);
  })();
});
