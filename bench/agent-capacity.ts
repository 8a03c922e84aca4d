import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dispose } from '@livekit/rtc-node';
import { startLocalSpeechServer } from '../agent/src/simulate/local-speech-server.ts';
import { callKit } from './resilience/support/calls.ts';
import { type BenchCallResult, runBenchCall } from './support/bench-call.ts';
import {
  benchCaller,
  startMinimalRivaChild,
  type TurnFigures,
  turnFigures,
} from './support/capacity-call.ts';
import { formatTable, machine, round1, round3 } from './support/report.ts';

const _root = fileURLToPath(new URL('..', import.meta.url));
const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const callCounts = (argValue('calls') ?? '1,5,10,20,40').split(',').map((s) => Number(s.trim()));
const rivaMode = argValue('riva') ?? 'minimal';
// Caller frame length: 20 ms as SIP packetises; 10 ms is what LiveKit's AudioStream hands a RoomIO session.
const frameMs = Number(argValue('frame-ms') ?? 20);
if (
  callCounts.some((n) => !Number.isInteger(n) || n < 1) ||
  !['minimal', 'speech-server'].includes(rivaMode) ||
  ![10, 20, 40].includes(frameMs)
) {
  console.error(
    'usage: agent-capacity [--calls 1,5,10,20,40] [--riva minimal|speech-server] [--frame-ms 10|20|40]',
  );
  process.exit(2);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MB = 1024 * 1024;
interface RunFigures extends TurnFigures {
  calls: number;
  wallS: number;
  cpuCoresPerCall: number;
  steadyCpuCoresPerCall: number | null;
  baselineRssMb: number;
  peakRssMb: number;
  rssMbPerCall: number;
  heapMbPerCall: number;
  inputFrames: number;
  inputLate: number;
  inputMaxLagMs: number;
  outputFrames: number;
  outputLate: number;
  outputMaxLagMs: number;
  eventLoopDelayP99Ms: number;
  loadAvg1m: number;
}

async function main(): Promise<void> {
  const kit = await callKit('error');
  const { settings, vad, logger } = kit;
  const caller = benchCaller();
  const maxCalls = Math.max(...callCounts);
  const server =
    rivaMode === 'minimal'
      ? await startMinimalRivaChild()
      : await startLocalSpeechServer({ mode: 'child', maxStreams: 2 * maxCalls + 4 });
  const riva = kit.riva(server.url);
  process.stdout.write(
    `agent-capacity: riva=${rivaMode} (${server.url}), calls ${callCounts.join(', ')}, ` +
      `${(caller.samples.length / caller.sampleRate).toFixed(1)} s caller audio, 5 turns per call\n`,
  );

  const runs: RunFigures[] = [];
  try {
    for (const n of callCounts) runs.push(await runLevel(n));
  } finally {
    await server.stop();
  }
  printTable(runs);
  process.stdout.write(
    `${JSON.stringify({
      benchmark: 'agent-capacity',
      riva: rivaMode,
      machine: machine(),
      processModel: 'all calls in one Node process (several AgentSessions), Riva server in a child process',
      settings: {
        turnDetection: settings.turnDetection,
        endpointSilenceMs: settings.endpointSilenceMs,
        rivaEndpointMs: riva.endpointMs,
        preemptiveGeneration: settings.preemptiveGeneration,
        callerFrameMs: frameMs,
        lateThresholdMs: 40,
      },
      runs,
    })}\n`,
  );

  async function runLevel(n: number): Promise<RunFigures> {
    gc();
    await new Promise((r) => setTimeout(r, 300));
    gc();
    const baseRss = process.memoryUsage().rss;
    const baseHeap = process.memoryUsage().heapUsed;
    let peakRss = baseRss;
    let peakHeap = baseHeap;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let live = 0;
    let turnsDone = 0;
    let steady: { cpu: NodeJS.CpuUsage; t: number } | undefined;
    let steadyCores: number | null = null;
    const closeSteady = () => {
      if (!steady || steadyCores !== null) return;
      const d = process.cpuUsage(steady.cpu);
      const secs = (performance.now() - steady.t) / 1000;
      if (secs > 2) steadyCores = (d.user + d.system) / 1e6 / secs / n;
    };
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 250);
    const progress = setInterval(() => {
      const d = process.cpuUsage(cpu0);
      const secs = (performance.now() - t0) / 1000;
      process.stdout.write(
        `  N=${n}: ${secs.toFixed(0)} s, ${live}/${n} live, ${turnsDone} calls done, ` +
          `cpu ${((d.user + d.system) / 1e6 / secs).toFixed(2)} core, rss ${(process.memoryUsage().rss / MB).toFixed(0)} MB\n`,
      );
    }, 2000);
    const staggerMs = Math.min(3000, n * 100);
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i): Promise<BenchCallResult> => {
        await new Promise((r) => setTimeout(r, (staggerMs * i) / n));
        live++;
        if (live === n) steady = { cpu: process.cpuUsage(), t: performance.now() };
        try {
          return await runBenchCall({
            callId: `bench-${n}-${i}`,
            caller,
            brain: kit.brain(),
            riva,
            settings,
            vad,
            logger,
            frameMs,
          });
        } finally {
          if (live === n) closeSteady();
          live--;
          turnsDone += 1;
        }
      }),
    );
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    clearInterval(progress);
    loop.disable();
    const sum = (f: (r: BenchCallResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const max = (f: (r: BenchCallResult) => number) => Math.max(0, ...results.map(f));
    const figures: RunFigures = {
      calls: n,
      wallS: round1(wallS),
      cpuCoresPerCall: round3((cpu.user + cpu.system) / 1e6 / wallS / n),
      steadyCpuCoresPerCall: steadyCores === null ? null : round3(steadyCores),
      baselineRssMb: round1(baseRss / MB),
      peakRssMb: round1(peakRss / MB),
      rssMbPerCall: round1((peakRss - baseRss) / MB / n),
      heapMbPerCall: round1((peakHeap - baseHeap) / MB / n),
      inputFrames: sum((r) => r.input.frames),
      inputLate: sum((r) => r.input.late),
      inputMaxLagMs: Math.round(max((r) => r.input.maxLagMs)),
      outputFrames: sum((r) => r.output.frames),
      outputLate: sum((r) => r.output.late),
      outputMaxLagMs: Math.round(max((r) => r.output.maxLagMs)),
      eventLoopDelayP99Ms: round1(loop.percentile(99) / 1e6),
      ...turnFigures(results),
      loadAvg1m: round1(loadavg()[0] ?? 0),
    };
    process.stdout.write(
      `  N=${n} done in ${figures.wallS} s: ${figures.cpuCoresPerCall} core/call, ${figures.rssMbPerCall} MB/call, ` +
        `v2v p50/p95 ${figures.v2v.p50}/${figures.v2v.p95} ms, dropped ${figures.callsDropped}\n`,
    );
    return figures;
  }
}

function printTable(runs: RunFigures[]): void {
  const head = [
    'calls',
    'core/call',
    'steady',
    'MB/call',
    'late in',
    'late out',
    'dropped',
    'v2v p50',
    'v2v p95',
    'eos→final p95',
    'vad lag p95',
    'eos→turn end p95',
    'agent p95',
    'tts p95',
    'load',
  ];
  const rows = runs.map((r) => [
    String(r.calls),
    r.cpuCoresPerCall.toFixed(3),
    r.steadyCpuCoresPerCall?.toFixed(3) ?? '-',
    r.rssMbPerCall.toFixed(1),
    `${r.inputLate}/${r.inputFrames}`,
    `${r.outputLate}/${r.outputFrames}`,
    String(r.callsDropped),
    String(r.v2v.p50 ?? '-'),
    String(r.v2v.p95 ?? '-'),
    String(r.endOfSpeechToFinal.p95 ?? '-'),
    String(r.vadLag.p95 ?? '-'),
    String(r.endOfSpeechToTurnEnd.p95 ?? '-'),
    String(r.agentShare.p95 ?? '-'),
    String(r.ttsFirstAudio.p95 ?? '-'),
    r.loadAvg1m.toFixed(1),
  ]);
  process.stdout.write(`\n${formatTable(head, rows)}\n\n`);
}

main()
  .then(async () => {
    await dispose();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    process.stderr.write(
      `agent-capacity: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    await dispose().catch(() => undefined);
    process.exit(1);
  });
