/**
 * Draining on a real LiveKit server: two workers registered; SIGTERM the one holding a live call. That call
 * finishes normally, a call placed during the drain goes to the other worker, and the drained worker exits
 * once its call is over.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCall, startCallerProcess } from '../local-stack/calls.ts';
import { REPO_ROOT } from '../local-stack/livekit-server.ts';
import { type AgentWorker, type LocalStack, startLocalStack } from '../local-stack/stack.ts';
import { freshDatabase, printStackLogs, stackUnavailableReason, waitForCall } from './e2e-support.ts';

const unavailable = await stackUnavailableReason();
const CALLER = join(REPO_ROOT, 'agent/assets/sample-caller.wav');

function holder(workers: AgentWorker[], callId: string): AgentWorker | undefined {
  return workers.find((w) =>
    w.process
      .output()
      .split('\n')
      .some((l) => l.includes('"job connected"') && l.includes(callId)),
  );
}

describe.skipIf(unavailable !== undefined)('draining a worker on a real LiveKit server', () => {
  let stack: LocalStack;
  let db: Awaited<ReturnType<typeof freshDatabase>>;

  beforeAll(async () => {
    db = await freshDatabase();
    stack = await startLocalStack({ databaseUrl: db.url, workers: 2 });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(() => printStackLogs(stack, ctx.task.name));
  });

  it('SIGTERM during a live call: the call finishes, the next call goes to the other worker, 0 cut', async () => {
    const first = await createCall(stack);
    let drained: AgentWorker | undefined;
    let second:
      | Promise<{ callId: string; report: Awaited<ReturnType<typeof startCallerProcess>['done']> }>
      | undefined;
    const firstCaller = startCallerProcess(stack, {
      call: first,
      wav: CALLER,
      outDir: join(stack.workDir, 'calls', 'drain-first'),
      onEvent: (ev) => {
        if (drained || ev.type !== 'agent_audio' || ev.state !== 'end') return;
        // The greeting has played: the call is live. Drain the worker that holds it, then place a call.
        drained = holder(stack.workers, first.callId);
        if (!drained) throw new Error('no worker logged the first call');
        drained.process.signal('SIGTERM');
        second = drained.process
          .waitForLine(/"msg":"draining"/, 10_000)
          .then(() => createCall(stack))
          .then(async (call) => {
            const report = await startCallerProcess(stack, {
              call,
              wav: CALLER,
              outDir: join(stack.workDir, 'calls', 'drain-second'),
            }).done;
            return { callId: call.callId, report };
          });
      },
    });
    const firstReport = await firstCaller.done;
    expect(drained).toBeDefined();
    if (!second || !drained) throw new Error('the drain never started');
    const secondResult = await second;

    // The call on the draining worker went on to the end: both utterances answered, the agent never left early.
    expect(firstReport.utterances).toHaveLength(2);
    const lastUtterance = firstReport.utterances.at(-1);
    expect(firstReport.agentBursts.some((b) => lastUtterance && b.startMs > lastUtterance.speechEndMs)).toBe(
      true,
    );
    const agentLeftEarly = firstReport.events.some(
      (e) =>
        e.type === 'participant' && e.state === 'left' && lastUtterance && e.atMs < lastUtterance.speechEndMs,
    );
    expect(agentLeftEarly).toBe(false);

    // The call placed during the drain ran on the other worker.
    const other = holder(stack.workers, secondResult.callId);
    expect(other).toBeDefined();
    expect(other?.name).not.toBe(drained.name);
    expect(secondResult.report.utterances).toHaveLength(2);
    expect(secondResult.report.agentBursts.length).toBeGreaterThanOrEqual(3);

    // The drained worker exits on its own once its call is over: the framework's CLI ends a worker it
    // closed on SIGTERM with 143 (128 + SIGTERM) after the drain, not by being killed.
    const exit = await Promise.race([
      drained.process.exited,
      new Promise<'still running'>((r) => setTimeout(() => r('still running'), 30_000)),
    ]);
    expect(exit).toEqual({ code: 143, signal: null });
    for (const callId of [first.callId, secondResult.callId]) {
      const record = await waitForCall(stack, callId, 'ended', (c) => c.state === 'ended', 30_000);
      expect(record.transcript?.length).toBeGreaterThanOrEqual(5);
    }
  }, 300_000);
});
