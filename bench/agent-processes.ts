/**
 * `npm run bench -- agent-processes [--calls 1,5,10,20,30] [--frame-ms 20|10] [--runtime compiled|tsx]`
 *
 * Calls per machine the way production runs them: the LiveKit worker forks one process per job, so here each
 * of N concurrent calls runs in a Node process of its own (bench/support/one-call-child.ts: the production call
 * session, Riva plugins, Silero, scripted flow, default config) against one minimal Riva server. Processes are
 * started and loaded first, two at a time (the worker keeps warm idle processes), then the calls start
 * staggered over up to 3 s, so start-up cost is not counted as call cost.
 *
 * Per N: CPU per call (each process's CPU over its call, all threads, ÷ call time), machine cores busy, memory
 * per call as RSS of one loaded process (before its call and at its peak) and as PSS (shared library pages
 * split between processes; /proc/PID/smaps_rollup, summed over the live processes at the fullest moment),
 * late caller and agent frames, calls dropped, voice-to-voice and its parts. Children run compiled JavaScript
 * as the production image does (`scripts/build.ts --bench` into dist-bench/, built first); `--runtime tsx`
 * runs the TypeScript sources through tsx instead (its loader thread, esbuild and source maps add ~60 MB per
 * process). Prints a progress line every 2 s, a table, and one JSON line at the end.
 */
import { type ChildProcessByStdio, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { BenchCallResult } from './support/bench-call.ts';
import { BENCH_ROOT, startMinimalRivaChild, type TurnFigures, turnFigures } from './support/capacity-call.ts';
import { formatTable, machine, round1, round3 } from './support/report.ts';

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const callCounts = (argValue('calls') ?? '1,5,10,20,30').split(',').map((s) => Number(s.trim()));
const frameMs = Number(argValue('frame-ms') ?? 20);
const runtime = argValue('runtime') ?? 'compiled';
if (
  callCounts.some((n) => !Number.isInteger(n) || n < 1) ||
  ![10, 20, 40].includes(frameMs) ||
  !['compiled', 'tsx'].includes(runtime)
) {
  console.error(
    'usage: agent-processes [--calls 1,5,10,20,30] [--frame-ms 10|20|40] [--runtime compiled|tsx]',
  );
  process.exit(2);
}
/** Node arguments that start one call process: the compiled child, or the TypeScript one through tsx. */
const childEntry =
  runtime === 'compiled'
    ? [`${BENCH_ROOT}/dist-bench/bench/support/one-call-child.js`]
    : ['--import', 'tsx', `${BENCH_ROOT}/bench/support/one-call-child.ts`];

interface ChildOutcome {
  result: BenchCallResult;
  cpuS: number;
  wallS: number;
  peakRssMb: number;
}

interface LoadedChild {
  proc: ChildProcessByStdio<Writable, Readable, null>;
  readyRssMb: number;
  outcome: Promise<ChildOutcome>;
}

interface RunFigures extends TurnFigures {
  calls: number;
  wallS: number;
  cpuCoresPerCall: number;
  machineCoresBusy: number;
  loadedProcessRssMb: number;
  peakProcessRssMb: number;
  pssMbPerCall: number;
  inputFrames: number;
  inputLate: number;
  outputFrames: number;
  outputLate: number;
  loadAvg1m: number;
}

/** Starts one call process and waits until it has loaded everything a job loads. */
function loadChild(rivaUrl: string, callId: string): Promise<LoadedChild> {
  const proc = spawn(process.execPath, [...childEntry, rivaUrl, String(frameMs), callId], {
    cwd: BENCH_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let resolveOutcome: (o: ChildOutcome) => void;
    let rejectOutcome: (e: Error) => void;
    const outcome = new Promise<ChildOutcome>((res, rej) => {
      resolveOutcome = res;
      rejectOutcome = rej;
    });
    outcome.catch(() => undefined);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const msg = JSON.parse(line) as { ready?: boolean; rssMb?: number } & Partial<ChildOutcome>;
      if (msg.ready) resolve({ proc, readyRssMb: msg.rssMb ?? 0, outcome });
      else if (msg.result) resolveOutcome(msg as ChildOutcome);
    });
    proc.once('exit', (code) => {
      const err = new Error(`call process ${callId} exited with ${code}`);
      reject(err);
      rejectOutcome(err);
    });
  });
}

/** Proportional set size of a process in MB (its private pages plus its share of shared ones). */
function pssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function runLevel(n: number, rivaUrl: string): Promise<RunFigures> {
  const loaded: LoadedChild[] = [];
  for (let i = 0; i < n; i += 2) {
    const batch = [i, i + 1].filter((k) => k < n).map((k) => loadChild(rivaUrl, `proc-${n}-${k}`));
    loaded.push(...(await Promise.all(batch)));
    process.stdout.write(`  N=${n}: ${loaded.length}/${n} processes loaded\n`);
  }
  const t0 = performance.now();
  const cpuTicks0 = machineCpuSeconds();
  let peakPss = 0;
  const sampler = setInterval(() => {
    peakPss = Math.max(
      peakPss,
      loaded.reduce((a, c) => a + pssMb(c.proc.pid), 0),
    );
  }, 1000);
  let done = 0;
  const progress = setInterval(() => {
    const secs = (performance.now() - t0) / 1000;
    const busy = (machineCpuSeconds() - cpuTicks0) / secs;
    process.stdout.write(
      `  N=${n}: ${secs.toFixed(0)} s, ${n - done}/${n} live, machine ${busy.toFixed(2)} cores busy, ` +
        `PSS peak ${peakPss.toFixed(0)} MB\n`,
    );
  }, 2000);
  const staggerMs = Math.min(3000, n * 100);
  const outcomes = await Promise.all(
    loaded.map(async (child, i) => {
      await new Promise((r) => setTimeout(r, (staggerMs * i) / n));
      child.proc.stdin.write('go\n');
      try {
        return await child.outcome;
      } finally {
        done++;
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const machineBusy = (machineCpuSeconds() - cpuTicks0) / wallS;
  clearInterval(sampler);
  clearInterval(progress);
  const mean = (f: (v: number) => number, xs: number[]) => xs.reduce((a, x) => a + f(x), 0) / xs.length;
  const results = outcomes.map((o) => o.result);
  const sum = (f: (r: BenchCallResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const figures: RunFigures = {
    calls: n,
    wallS: round1(wallS),
    cpuCoresPerCall: round3(
      mean(
        (x) => x,
        outcomes.map((o) => o.cpuS / o.wallS),
      ),
    ),
    machineCoresBusy: round3(machineBusy),
    loadedProcessRssMb: round1(
      mean(
        (x) => x,
        loaded.map((c) => c.readyRssMb),
      ),
    ),
    peakProcessRssMb: round1(
      mean(
        (x) => x,
        outcomes.map((o) => o.peakRssMb),
      ),
    ),
    pssMbPerCall: round1(peakPss / n),
    inputFrames: sum((r) => r.input.frames),
    inputLate: sum((r) => r.input.late),
    outputFrames: sum((r) => r.output.frames),
    outputLate: sum((r) => r.output.late),
    ...turnFigures(results),
    loadAvg1m: round1(loadavg()[0] ?? 0),
  };
  process.stdout.write(
    `  N=${n} done in ${figures.wallS} s: ${figures.cpuCoresPerCall} core/call, machine ${figures.machineCoresBusy} ` +
      `cores busy, PSS ${figures.pssMbPerCall} MB/call, v2v p50/p95 ${figures.v2v.p50}/${figures.v2v.p95} ms, ` +
      `dropped ${figures.callsDropped}\n`,
  );
  return figures;
}

/** CPU seconds all cores of this machine spent outside idle and iowait since boot (/proc/stat). */
function machineCpuSeconds(): number {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = first.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return (v.reduce((a, x) => a + x, 0) - idle) / 100;
}

function printTable(runs: RunFigures[]): void {
  const head = [
    'calls',
    'core/call',
    'machine cores',
    'RSS loaded',
    'RSS peak',
    'PSS/call',
    'late in',
    'late out',
    'dropped',
    'v2v p50',
    'v2v p95',
    'agent p95',
    'load',
  ];
  const rows = runs.map((r) => [
    String(r.calls),
    r.cpuCoresPerCall.toFixed(3),
    r.machineCoresBusy.toFixed(2),
    r.loadedProcessRssMb.toFixed(0),
    r.peakProcessRssMb.toFixed(0),
    r.pssMbPerCall.toFixed(0),
    `${r.inputLate}/${r.inputFrames}`,
    `${r.outputLate}/${r.outputFrames}`,
    String(r.callsDropped),
    String(r.v2v.p50 ?? '-'),
    String(r.v2v.p95 ?? '-'),
    String(r.agentShare.p95 ?? '-'),
    r.loadAvg1m.toFixed(1),
  ]);
  process.stdout.write(`\n${formatTable(head, rows)}\n\n`);
}

if (runtime === 'compiled') {
  process.stdout.write('agent-processes: compiling the call process (scripts/build.ts --bench)\n');
  execFileSync(process.execPath, ['--import', 'tsx', `${BENCH_ROOT}/scripts/build.ts`, '--bench'], {
    cwd: BENCH_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const server = await startMinimalRivaChild();
process.stdout.write(
  `agent-processes: one process per call (${runtime}), minimal Riva server (${server.url}), calls ${callCounts.join(', ')}\n`,
);
const runs: RunFigures[] = [];
try {
  for (const n of callCounts) runs.push(await runLevel(n, server.url));
} finally {
  await server.stop();
}
printTable(runs);
process.stdout.write(
  `${JSON.stringify({
    benchmark: 'agent-processes',
    riva: 'minimal',
    machine: machine(),
    processModel: 'one Node process per call (as the LiveKit worker forks per job), loaded before the call',
    // A top-level string: runs of the two runtimes are not compared with each other (bench/compare.ts).
    runtime,
    settings: { callerFrameMs: frameMs, lateThresholdMs: 40 },
    runs,
  })}\n`,
);
process.exit(0);
