/**
 * One benchmark call in a process of its own, as the LiveKit worker runs each job (bench/agent-processes.ts).
 * Loads what a job process loads (config, Silero, the flow), prints `{"ready":…}`, waits for a line on stdin,
 * runs the call against the Riva server at argv[2], and prints `{"result":…}` with the call's figures and this
 * process's CPU (all threads) and peak RSS over the call. Caller frames are argv[3] ms long.
 */
import { createInterface } from 'node:readline';
import { dispose } from '@livekit/rtc-node';
import { createScriptedBrain } from '../../agent/src/brains/reply-brain.ts';
import { loadFlowFile } from '../../agent/src/brains/scripted-flow.ts';
import { loadAgentConfig } from '../../agent/src/config.ts';
import { rivaSettingsFromConfig } from '../../agent/src/riva.ts';
import { callSettingsFromConfig, initAgentsLogger, loadCallVad } from '../../agent/src/runtime.ts';
import { createLogger } from '../../common/src/logger.ts';
import { runBenchCall } from './bench-call.ts';
import { BENCH_ROOT, benchCaller } from './capacity-call.ts';

const [rivaUrl, frameMsArg, callId] = process.argv.slice(2);
if (!rivaUrl) throw new Error('usage: one-call-child.ts RIVA_URL [FRAME_MS] [CALL_ID]');
const MB = 1024 * 1024;

const config = loadAgentConfig({});
initAgentsLogger('error');
const logger = createLogger({ level: 'error', service: 'bench' });
const flow = loadFlowFile(`${BENCH_ROOT}/agent/flows/sample-flow.yaml`);
const settings = callSettingsFromConfig(config);
const vad = await loadCallVad(settings);
const caller = benchCaller();
const riva = rivaSettingsFromConfig(config, rivaUrl, flow.boostPhrases());

const lines = createInterface({ input: process.stdin });
const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
process.stdout.write(`${JSON.stringify({ ready: true, rssMb: process.memoryUsage().rss / MB })}\n`);
await go;

const cpu0 = process.cpuUsage();
const t0 = performance.now();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 250);
const result = await runBenchCall({
  callId: callId ?? 'bench-process',
  caller,
  brain: createScriptedBrain(flow),
  riva,
  settings,
  vad,
  logger,
  frameMs: Number(frameMsArg ?? 20),
});
clearInterval(sampler);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    result,
    cpuS: (cpu.user + cpu.system) / 1e6,
    wallS: (performance.now() - t0) / 1000,
    peakRssMb: peakRss / MB,
  })}\n`,
);
lines.close();
await dispose();
process.exit(0);
