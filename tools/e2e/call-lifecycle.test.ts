/**
 * How calls end and recover on a real LiveKit server: a caller hanging up mid-reply, a caller talking over
 * the agent (barge-in, measured at the caller's recording), and a call whose agent process is killed and
 * which the control API heals by sending a new agent into the same room.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallerReport } from '../caller/caller-files.ts';
import { createCall, startCallerProcess } from '../local-stack/calls.ts';
import { REPO_ROOT } from '../local-stack/livekit-server.ts';
import { type LocalStack, startLocalStack } from '../local-stack/stack.ts';
import {
  freshDatabase,
  getCall,
  metricSum,
  printStackLogs,
  scrape,
  stackUnavailableReason,
  waitForCall,
} from './e2e-support.ts';

const unavailable = await stackUnavailableReason();
const CALLER = join(REPO_ROOT, 'agent/assets/sample-caller.wav');
const GREETING = 'Hello, you have reached the Riverside clinic. How can I help you today?';
const RESUME = 'Sorry, I lost you for a moment. I am back, please go on.';

function agentTexts(report: CallerReport): string[] {
  const bySegment = new Map<string, string>();
  for (const t of report.transcriptions) {
    if (t.speaker === 'agent') bySegment.set(t.segmentId, (bySegment.get(t.segmentId) ?? '') + t.text);
  }
  return [...bySegment.values()].map((s) => s.trim());
}

describe.skipIf(unavailable !== undefined)('call lifecycle on a real LiveKit server', () => {
  let stack: LocalStack;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const outDir = (name: string) => join(stack.workDir, 'calls', name);

  beforeAll(async () => {
    db = await freshDatabase();
    stack = await startLocalStack({ databaseUrl: db.url });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(() => printStackLogs(stack, ctx.task.name));
  });

  it('a caller who hangs up mid-reply: the job ends within 5 s, the call ends as hang-up', async () => {
    const call = await createCall(stack);
    const report = await startCallerProcess(stack, {
      call,
      wav: CALLER,
      outDir: outDir('hang-up'),
      args: ['--hang-up-during-reply', '1:800'],
    }).done;
    const hungUpAt = performance.now();
    expect(report.endedBy).toBe('caller');
    expect(report.endReason).toBe('hang-up during reply');
    const worker = stack.workers[0];
    if (!worker) throw new Error('no worker');
    // The job logs its end (reason hangup) and leaves the room within 5 s of the caller leaving.
    await worker.process.waitForLine(
      new RegExp(`"callId":"${call.callId}".*"reason":"hangup".*"call ended"`),
      5000,
    );
    const record = await waitForCall(
      stack,
      call.callId,
      'agent gone',
      (c) =>
        c.state === 'ended' && c.participants?.some((p) => p.kind === 'agent' && p.state === 'left') === true,
      Math.max(1, 5000 - (performance.now() - hungUpAt)),
    );
    console.log(`hang-up: agent gone ${Math.round(performance.now() - hungUpAt)} ms after the caller`);
    expect(record.state).toBe('ended');
    expect(record.endReason).toBe('hang-up');
  }, 180_000);

  it('barge-in: the agent stops talking soon after the caller starts, measured at the caller', async () => {
    // The worker that took the hung-up call takes this one too.
    const call = await createCall(stack);
    const report = await startCallerProcess(stack, {
      call,
      wav: CALLER,
      outDir: outDir('barge-in'),
      args: ['--start', 'with-greeting', '--turn-taking', 'as-recorded', '--linger-ms', '3000'],
    }).done;
    const first = report.utterances[0];
    const greeting = report.agentBursts[0];
    if (!first || !greeting?.endMs)
      throw new Error(`no overlap to measure: ${JSON.stringify(report.agentBursts)}`);
    // The caller started speaking during the greeting, and the greeting stopped before its natural end
    // (the flite greeting runs ~4.5 s).
    expect(first.speechStartMs).toBeGreaterThan(greeting.startMs);
    expect(first.speechStartMs).toBeLessThan(greeting.endMs);
    const stopMs = greeting.endMs - first.speechStartMs;
    console.log(
      `barge-in: agent audio stopped ${Math.round(stopMs)} ms after the caller started (target 300 ms)`,
    );
    expect(greeting.endMs - greeting.startMs).toBeLessThan(3500);
    expect(stopMs).toBeLessThan(2000);
    const record = await waitForCall(stack, call.callId, 'ended', (c) => c.state === 'ended', 60_000);
    expect(record.transcript?.[0]?.speaker).toBe('agent');
  }, 180_000);

  it('a call that heals: the job process is killed, a new agent joins, says it is back, the call goes on', async () => {
    const call = await createCall(stack);
    const worker = stack.workers[0];
    if (!worker) throw new Error('no worker');
    let killedAt: number | undefined;
    let resumedAt: number | undefined;
    const caller = startCallerProcess(stack, {
      call,
      wav: CALLER,
      outDir: outDir('heal'),
      // The caller waits as long as it takes for someone to answer.
      args: ['--answer-timeout-ms', '90000'],
      onEvent: (ev) => {
        if (ev.type === 'agent_audio' && ev.state === 'end' && killedAt === undefined) {
          const line = worker.process
            .output()
            .split('\n')
            .find((l) => l.includes('"job connected"') && l.includes(call.callId));
          const pid = line ? (JSON.parse(line) as { pid?: number }).pid : undefined;
          if (!pid) throw new Error('the job process did not log its pid');
          process.kill(pid, 'SIGKILL');
          killedAt = performance.now();
        } else if (ev.type === 'agent_audio' && ev.state === 'start' && killedAt !== undefined) {
          resumedAt ??= performance.now();
        }
      },
    });
    const report = await caller.done;
    expect(killedAt).toBeDefined();
    expect(resumedAt).toBeDefined();
    console.log(`heal: the caller heard nothing for ${Math.round((resumedAt ?? 0) - (killedAt ?? 0))} ms`);

    // A second agent joined the room and said it was back; the call then ended normally.
    // The caller saw the first agent leave and another one join (the first may have joined before it).
    const seen = (state: string) =>
      report.events.flatMap((e) => (e.type === 'participant' && e.state === state ? [e.identity] : []));
    const [lostAgent] = seen('left');
    expect(lostAgent).toMatch(/^agent-/);
    const newAgents = seen('joined').filter((id) => id !== lostAgent);
    expect(newAgents).toHaveLength(1);
    expect(newAgents[0]).toMatch(/^agent-/);
    const heardTexts = agentTexts(report);
    expect(heardTexts[0]).toBe(GREETING);
    expect(heardTexts[1]).toBe(RESUME);
    // The call went on: the new agent answered the caller's next utterance.
    expect(heardTexts.length).toBeGreaterThanOrEqual(3);
    const lastUtterance = report.utterances.at(-1);
    expect(report.agentBursts.some((b) => lastUtterance && b.startMs > lastUtterance.speechEndMs)).toBe(true);

    const record = await waitForCall(stack, call.callId, 'ended', (c) => c.state === 'ended', 60_000);
    // Across both agents no segment is lost or duplicated: the record holds exactly what the caller was told.
    const stored = record.transcript ?? [];
    expect(new Set(stored.map((s) => s.id)).size).toBe(stored.length);
    expect(stored.filter((s) => s.speaker === 'agent').map((s) => s.text)).toEqual(heardTexts);
    const callerFinals = report.transcriptions
      .filter((t) => t.speaker === 'caller' && t.final)
      .map((t) => t.text);
    expect(stored.filter((s) => s.speaker === 'caller').map((s) => s.text)).toEqual(callerFinals);
    const metrics = await scrape(`${stack.controlApi.url}/metrics`);
    expect(metricSum(metrics, 'agent_replacements_total', { outcome: 'dispatched' })).toBe(1);
    expect((await getCall(stack, call.callId)).agentState).not.toBe('lost');
  }, 240_000);
});
