/**
 * SIGTERM during live calls → calls cut 0.
 *
 * A child process hosts 6 live production call sessions (see support/drain-child.ts) and is wired like the
 * agent worker (real admission and health server). Mid-call it gets SIGTERM. Checked: readiness turns 503 at
 * once, a job offered after the signal is refused, every live call runs on to its natural end (the caller's
 * goodbye) with every turn answered, and the process exits 143 only after the last call ended.
 *
 * Scope: the LiveKit worker's own drain (`AgentServer.drain`, which waits for job processes) needs a LiveKit
 * server; the child stands in for it with the same rule (wait for running calls up to DRAIN_TIMEOUT_SECONDS).
 * What runs for real is everything of ours that a SIGTERM reaches in a process with live calls.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { ROOT, sleep } from './support/calls.ts';

const CALLS = 6;

describe('SIGTERM with live calls', () => {
  it('cuts no call: readiness drops, new jobs are refused, live calls finish, then exit 143', async () => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/resilience/support/drain-child.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, DRAIN_CALLS: String(CALLS) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines: Array<Record<string, unknown>> = [];
    let onLine: (() => void) | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      lines.push(JSON.parse(line) as Record<string, unknown>);
      onLine?.();
    });
    const waitFor = (key: string, ms: number) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${key}" line within ${ms} ms`)), ms);
        const check = () => {
          const hit = lines.find((l) => key in l);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          }
        };
        onLine = check;
        check();
      });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const ready = await waitFor('ready', 90_000);
    const port = ready.metricsPort as number;
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    // Mid-call: after the greeting, while the callers are talking.
    await sleep(7000);
    const signalledAt = performance.now();
    child.kill('SIGTERM');
    await sleep(300);
    const readyAfter = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status);
    const draining = await waitFor('draining', 10_000);
    const result = await waitFor('result', 180_000);
    const code = await exited;
    const exitAfterMs = Math.round(performance.now() - signalledAt);
    const endReasons = result.endReasons as string[];
    const cut = endReasons.filter((r) => r !== 'goodbye').length + Math.max(0, CALLS - endReasons.length);
    const summary = {
      test: 'sigterm-drain',
      calls: CALLS,
      liveAtSigterm: draining.liveAtSignal,
      readyzAfterSigterm: readyAfter,
      newJobRejected: draining.newJobRejected,
      loadReported: draining.load,
      callsCut: cut,
      endReasons,
      turnsAnswered: result.turnsAnswered,
      lateAgentFrames: result.outputLate,
      drainedMs: result.drainedMs,
      exitCode: code,
      exitAfterSigtermMs: exitAfterMs,
      seconds: Math.round((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(summary));
    expect(draining.liveAtSignal).toBe(CALLS);
    expect(readyAfter).toBe(503);
    expect(draining.newJobRejected).toBe(true);
    expect(draining.newJobAccepted).toBe(false);
    expect(cut).toBe(0);
    expect((result.turnsAnswered as number[]).every((n) => n === 3)).toBe(true);
    expect(code).toBe(143);
  });
});
