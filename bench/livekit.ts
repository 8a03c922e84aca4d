/**
 * `npm run bench -- livekit [--calls 1,5,10,20] [--cpu-calls 1,2]`: N concurrent real calls through a real
 * LiveKit server (the local stack in a network namespace; root), each a real WebRTC caller speaking the
 * sample caller. With the minimal Riva server for every N in --calls, and with the CPU speech server for
 * every N in --cpu-calls. Per level: caller-side voice-to-voice p50/p95 (end of caller speech in the WAV →
 * first agent audio received) and end of speech → the caller's own final transcript, CPU (cores) and PSS
 * per call of the agent (worker, job and inference processes), the LiveKit server's CPU, late frames and
 * dropped calls. The simulated call (no LiveKit) runs in the same process run beside it, so the cost of the
 * real media path is a ratio measured on one machine at one time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CallerReport, readCallerReport } from '../tools/caller/caller-files.ts';
import { callerTurns } from '../tools/caller/caller-summary.ts';
import { stackUnavailableReason } from '../tools/e2e/e2e-support.ts';
import { createCall, startCallerProcess } from '../tools/local-stack/calls.ts';
import { REPO_ROOT } from '../tools/local-stack/livekit-server.ts';
import { ManagedProcess } from '../tools/local-stack/managed-process.ts';
import { type LocalStack, startLocalStack } from '../tools/local-stack/stack.ts';
import { percentile } from './support/bench-call.ts';
import { CALL_SCRIPT } from './support/capacity-call.ts';
import { formatTable, machine, round1, round3 } from './support/report.ts';

const CALLER = join(REPO_ROOT, 'agent/assets/sample-caller.wav');
const TICK = 100; // USER_HZ

type Role = 'agent' | 'livekit' | 'caller' | 'riva' | 'other';

function role(cmdline: string): Role {
  if (cmdline.includes('livekit-server')) return 'livekit';
  if (cmdline.includes('tools/caller/main.ts')) return 'caller';
  if (cmdline.includes('agent/src/main.ts') || cmdline.includes('@livekit/agents/dist/ipc/')) return 'agent';
  if (cmdline.includes('speech-server') || cmdline.includes('minimal-riva-server')) return 'riva';
  return 'other';
}

/** CPU ticks and PSS of every process in the namespace, by role; follows processes that come and go. */
class NamespaceSampler {
  #first = new Map<number, number>();
  #last = new Map<number, { ticks: number; role: Role }>();
  peakPss: Record<Role, number> = { agent: 0, livekit: 0, caller: 0, riva: 0, other: 0 };

  constructor(readonly ns: string) {}

  sample(): void {
    const pids = execFileSync('ip', ['netns', 'pids', this.ns], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const pss: Record<Role, number> = { agent: 0, livekit: 0, caller: 0, riva: 0, other: 0 };
    for (const p of pids) {
      const pid = Number(p);
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(fields[11]) + Number(fields[12]);
        const r = role(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
        if (!this.#first.has(pid)) this.#first.set(pid, ticks);
        this.#last.set(pid, { ticks, role: r });
        const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
        pss[r] += m ? Number(m[1]) / 1024 : 0;
      } catch {
        // gone between listing and reading
      }
    }
    for (const r of Object.keys(pss) as Role[]) this.peakPss[r] = Math.max(this.peakPss[r], pss[r]);
  }

  /** CPU seconds per role since each process was first seen. */
  cpuSeconds(): Record<Role, number> {
    const out: Record<Role, number> = { agent: 0, livekit: 0, caller: 0, riva: 0, other: 0 };
    for (const [pid, { ticks, role: r }] of this.#last)
      out[r] += (ticks - (this.#first.get(pid) ?? ticks)) / TICK;
    return out;
  }
}

interface LevelFigures {
  riva: 'minimal' | 'cpu';
  calls: number;
  dropped: number;
  v2vP50: number | null;
  v2vP95: number | null;
  finalP50: number | null;
  agentCoresPerCall: number;
  agentPssMbPerCall: number;
  liveKitCores: number;
  callerCores: number;
  lateFrames: number;
  seconds: number;
}

async function runLevel(stack: LocalStack, riva: 'minimal' | 'cpu', n: number): Promise<LevelFigures> {
  const sampler = new NamespaceSampler(stack.ns.name);
  sampler.sample();
  const timer = setInterval(() => sampler.sample(), 1000);
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const call = await createCall(stack);
      const outDir = join(stack.workDir, 'bench', `${riva}-${n}-${i}`);
      await startCallerProcess(stack, { call, wav: CALLER, outDir, args: ['--linger-ms', '3000'] }).done;
      return readCallerReport(outDir);
    }),
  );
  clearInterval(timer);
  sampler.sample();
  const seconds = (performance.now() - started) / 1000;
  const reports = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const answered = (r: CallerReport) =>
    r.utterances.length === 2 && callerTurns(r).every((t) => t.voiceToVoiceMs !== null);
  const dropped = n - reports.filter(answered).length;
  const turns = reports.flatMap(callerTurns);
  const v2v = turns.flatMap((t) => (t.voiceToVoiceMs === null ? [] : [t.voiceToVoiceMs]));
  const finals = turns.flatMap((t) => (t.finalAfterMs === null ? [] : [t.finalAfterMs]));
  const cpu = sampler.cpuSeconds();
  return {
    riva,
    calls: n,
    dropped,
    v2vP50: percentile(v2v, 50),
    v2vP95: percentile(v2v, 95),
    finalP50: percentile(finals, 50),
    agentCoresPerCall: round3(cpu.agent / seconds / n),
    agentPssMbPerCall: round1(sampler.peakPss.agent / n),
    liveKitCores: round3(cpu.livekit / seconds),
    callerCores: round3(cpu.caller / seconds),
    lateFrames: reports.reduce((a, r) => a + r.lateFrames, 0),
    seconds: round1(seconds),
  };
}

/** The simulated call (same call session, no LiveKit) against `rivaUrl`, for the ratio. */
async function simulatedVoiceToVoice(rivaUrl: string | undefined, out: string): Promise<number | null> {
  const sim = new ManagedProcess({
    name: 'simulate',
    argv: [
      process.execPath,
      '--import',
      'tsx',
      'agent/src/simulate/main.ts',
      '--caller',
      CALLER,
      '--out',
      out,
    ],
    cwd: REPO_ROOT,
    env: { ...process.env, ...(rivaUrl ? { RIVA_URL: rivaUrl } : {}) },
  });
  const exit = await sim.exited;
  if (exit.code !== 0) return null;
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    turns: Array<{ latency_ms: { voice_to_voice: number | null } }>;
  };
  return percentile(
    summary.turns.flatMap((t) => (t.latency_ms.voice_to_voice === null ? [] : [t.latency_ms.voice_to_voice])),
    50,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '1,5,10' },
      'cpu-calls': { type: 'string', default: '1,2' },
    },
  });
  const levels = (v: string) => v.split(',').filter(Boolean).map(Number);
  const reason = await stackUnavailableReason();
  if (reason) {
    console.log(`livekit bench skipped: ${reason}`);
    console.log(JSON.stringify({ bench: 'livekit', skipped: reason }));
    return;
  }
  const runs: LevelFigures[] = [];
  const simulated: Record<string, number | null> = {};
  for (const [riva, ns] of [
    ['minimal', levels(values.calls)],
    ['cpu', levels(values['cpu-calls'])],
  ] as const) {
    if (ns.length === 0) continue;
    const max = Math.max(...ns);
    const stack = await startLocalStack({
      ...(riva === 'minimal' ? { minimalRivaScript: CALL_SCRIPT } : {}),
      agentEnv: { MAX_CONCURRENT_CALLS: String(max + 2) },
    });
    try {
      for (const n of ns) {
        console.log(`livekit bench: ${n} concurrent call(s), ${riva} Riva …`);
        const fig = await runLevel(stack, riva, n);
        console.log(JSON.stringify({ level: fig }));
        runs.push(fig);
      }
      // The simulated call runs in the root namespace, so its Riva must be reachable there.
      simulated[riva] =
        riva === 'cpu' ? await simulatedVoiceToVoice(undefined, join(stack.workDir, 'sim')) : null;
    } finally {
      await stack.stop();
    }
  }
  console.log(
    `\n${formatTable(
      [
        'riva',
        'calls',
        'dropped',
        'v2v p50',
        'v2v p95',
        'EOS→final p50',
        'agent cores/call',
        'agent PSS MB/call',
        'LiveKit cores',
        'callers cores',
        'late frames',
      ],
      runs.map((r) => [
        r.riva,
        String(r.calls),
        String(r.dropped),
        String(r.v2vP50 ?? '—'),
        String(r.v2vP95 ?? '—'),
        String(r.finalP50 ?? '—'),
        String(r.agentCoresPerCall),
        String(r.agentPssMbPerCall),
        String(r.liveKitCores),
        String(r.callerCores),
        String(r.lateFrames),
      ]),
      true,
    )}`,
  );
  const cpuOne = runs.find((r) => r.riva === 'cpu' && r.calls === 1);
  if (cpuOne?.v2vP50 && simulated.cpu) {
    console.log(
      `\nsimulated call (CPU speech server, same run): voice-to-voice p50 ${simulated.cpu} ms; ` +
        `real call at the caller ${cpuOne.v2vP50} ms (ratio ${round1(cpuOne.v2vP50 / simulated.cpu)})`,
    );
  }
  console.log(
    JSON.stringify({ bench: 'livekit', machine: machine(), runs, simulatedVoiceToVoiceP50: simulated }),
  );
}

await main();
process.exit(0);
