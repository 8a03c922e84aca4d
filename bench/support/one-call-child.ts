/**
 * One benchmark call in a process of its own, as the LiveKit worker runs each job (bench/agent-processes.ts).
 * Loads what a job process loads (config, Silero, the flow), prints `{"ready":…}`, waits for a line on stdin,
 * runs the call against the Riva server at argv[2], and prints `{"result":…}` with the call's figures and this
 * process's CPU (all threads) and peak RSS over the call. Caller frames are argv[3] ms long.
 */
import { createInterface } from 'node:readline';
import { dispose } from '@livekit/rtc-node';
import { callKit } from '../resilience/support/calls.ts';
import { runBenchCall } from './bench-call.ts';
import { benchCaller } from './capacity-call.ts';

const [rivaUrl, frameMsArg, callId] = process.argv.slice(2);
if (!rivaUrl) throw new Error('usage: one-call-child.ts RIVA_URL [FRAME_MS] [CALL_ID]');
const MB = 1024 * 1024;

const kit = await callKit('error');
const caller = benchCaller();

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
  brain: kit.brain(),
  riva: kit.riva(rivaUrl),
  settings: kit.settings,
  vad: kit.vad,
  logger: kit.logger,
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
