/**
 * `npm run demo -- [--caller <wav>] [--out <dir>] [--flow <file>]`
 *
 * One real call through the whole system on its embedded defaults: a local LiveKit server, the CPU speech
 * server, the control API (PGlite) and an agent worker, all in a private network namespace. The control
 * API creates the call; the sample caller (or the given WAV) joins over WebRTC as a real participant.
 * Prints the live transcript, a latency table measured at the caller and the call's record from the
 * control API; writes summary.json (`"mode": "livekit"`), agent.wav and mix.wav.
 *
 * Where no LiveKit server is installed or namespaces cannot be made (not root), it says why and runs the
 * simulated call instead (`"mode": "simulated"`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatLatencyTable } from '../../agent/src/simulate/report.ts';
import { buildLiveKitSummary } from '../caller/caller-summary.ts';
import { adminJson, createCall, startCallerProcess } from '../local-stack/calls.ts';
import { findLiveKitServer, REPO_ROOT } from '../local-stack/livekit-server.ts';
import { ManagedProcess } from '../local-stack/managed-process.ts';
import { netnsUnavailableReason } from '../local-stack/netns.ts';
import { type LocalStack, startLocalStack } from '../local-stack/stack.ts';

const USAGE = `usage: npm run demo -- [--caller <wav>] [--out <dir>] [--flow <file>]

  --caller  caller audio (WAV: PCM, mu-law or A-law; 8 or 16 kHz)  [agent/assets/sample-caller.wav]
  --out     output directory for summary.json, agent.wav, mix.wav  [./out/demo]
  --flow    scripted call flow (YAML or JSON)                      [agent/flows/sample-flow.yaml]`;

async function unavailableReason(): Promise<string | undefined> {
  if (!findLiveKitServer())
    return 'no livekit-server is installed (scripts/bootstrap.sh builds one with Go 1.26)';
  return netnsUnavailableReason();
}

/** The simulated call, for machines that cannot run the real stack; its summary says why. */
async function runSimulated(
  args: { caller: string; out: string; flow: string },
  reason: string,
): Promise<number> {
  console.log(`demo: ${reason}; running the simulated call instead (npm run simulate)\n`);
  const sim = new ManagedProcess({
    name: 'simulate',
    argv: [
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'agent/src/simulate/main.ts'),
      '--caller',
      args.caller,
      '--out',
      args.out,
      '--flow',
      args.flow,
    ],
    cwd: REPO_ROOT,
    onLine: (line) => console.log(line),
  });
  const exit = await sim.exited;
  if (exit.code !== 0) return exit.code ?? 1;
  const file = join(args.out, 'summary.json');
  const summary = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, `${JSON.stringify({ mode: 'simulated', mode_reason: reason, ...summary }, null, 2)}\n`);
  return 0;
}

function printRecord(record: {
  state: string;
  endReason: string | null;
  participants?: Array<{ identity: string; kind: string; state: string }>;
  transitions?: Array<{ from: string; to: string; cause: string }>;
  transcript?: Array<{ speaker: string; text: string }>;
}): void {
  console.log(`\ncall record (control API): state ${record.state}, end reason ${record.endReason ?? '—'}`);
  for (const t of record.transitions ?? []) console.log(`  ${t.from} → ${t.to}  (${t.cause})`);
  for (const p of record.participants ?? []) console.log(`  participant ${p.kind} ${p.identity}: ${p.state}`);
  console.log(`  ${record.transcript?.length ?? 0} transcript segments stored (encrypted)`);
}

async function runLiveKit(args: { caller: string; out: string; flow: string }): Promise<number> {
  console.log('demo: starting LiveKit, the speech server, the control API and an agent worker …');
  const stack: LocalStack = await startLocalStack({ agentEnv: { FLOW_FILE: args.flow } });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void stack.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`demo: LiveKit at ${stack.liveKit.wsUrl}, control API at ${stack.controlApi.url}`);
    const call = await createCall(stack, { subjectId: 'subj-demo' });
    console.log(`demo: call ${call.callId} created; the caller joins room ${call.roomName}\n`);
    const printed = new Set<string>();
    const report = await startCallerProcess(stack, {
      call,
      wav: args.caller,
      outDir: args.out,
      onEvent: (ev) => {
        if (ev.type !== 'transcription') return;
        const key = `${String(ev.segmentId)}:${String(ev.final)}`;
        if (ev.speaker === 'caller' && ev.final && !printed.has(key))
          console.log(`caller: ${String(ev.text)}`);
        if (ev.speaker === 'agent' && !printed.has(key)) console.log(`agent:  ${String(ev.text)}`);
        printed.add(key);
      },
    }).done;
    const summary = buildLiveKitSummary(report, {
      callId: call.callId,
      callerFile: args.caller,
      flowFile: args.flow,
      rivaUrl: stack.rivaUrl,
    });
    writeFileSync(join(args.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`\ncall ended (${summary.end_reason}) after ${(summary.duration_ms / 1000).toFixed(1)} s`);
    console.log('latency measured at the caller (— = not observable from the caller):\n');
    console.log(formatLatencyTable(summary.turns));
    // Webhooks are applied asynchronously; give the record a moment to reach `ended`.
    let record = await adminJson<Parameters<typeof printRecord>[0]>(stack, `/v1/calls/${call.callId}`);
    for (let i = 0; i < 50 && record.state !== 'ended'; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      record = await adminJson(stack, `/v1/calls/${call.callId}`);
    }
    printRecord(record);
    console.log(`\nwrote ${join(args.out, 'summary.json')}, agent.wav, mix.wav, caller.json`);
    return 0;
  } finally {
    if (!interrupted) await stack.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      caller: { type: 'string' },
      out: { type: 'string' },
      flow: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const args = {
    caller: resolve(values.caller ?? join(REPO_ROOT, 'agent/assets/sample-caller.wav')),
    out: resolve(values.out ?? 'out/demo'),
    flow: resolve(values.flow ?? join(REPO_ROOT, 'agent/flows/sample-flow.yaml')),
  };
  const reason = await unavailableReason();
  return reason ? runSimulated(args, reason) : runLiveKit(args);
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
