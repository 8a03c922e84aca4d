/**
 * The control API killed and restarted during 50 simulated calls → transcript segments lost 0, duplicated 0.
 *
 * The real control API entry (control-api/src/main.ts, PGlite in a temp DATA_DIR) runs as a child process; a
 * fake LiveKit (the control API's test double) answers its room and dispatch calls. 50 calls are created
 * through the API, then each call's agent side, the agent's real `TranscriptUploader`, receives its segments
 * over time while the API is stopped twice: once with SIGKILL (a crash: no drain, PGlite recovers its files)
 * and once with SIGTERM (a deploy), each time restarted on the same port after a pause.
 *
 * Honest scope: the calls are segment-level, not audio: each simulated call adds SEGMENTS finished
 * transcript segments (caller and agent in turn) at 150–450 ms intervals, which is what the call session
 * hands the uploader at the end of each turn, only faster than a real call.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../agent/src/simulate/local-speech-server.ts';
import { TranscriptUploader } from '../../agent/src/transcript-uploader.ts';
import { createLogger } from '../../common/src/logger.ts';
import { startFakeLiveKit } from '../../control-api/test/fake-livekit.ts';
import { newCallBody } from '../../control-api/test/helpers.ts';
import { ROOT, sleep } from './support/calls.ts';

const CALLS = 50;
const SEGMENTS = 16;
const API_KEY = 'APIresilience';
const API_SECRET = 'resilience-secret-that-is-long-enough-for-hs256';
const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const AGENT = `agent-${randomBytes(12).toString('hex')}`;

const dataDir = mkdtempSync(join(tmpdir(), 'resilience-ctl-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

let starts = 0;
async function startApi(port: number, livekitUrl: string): Promise<{ proc: ChildProcess; startMs: number }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'control-api/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      CONTROL_API_TOKENS: `admin:${ADMIN},agent:${AGENT}`,
      LIVEKIT_URL: livekitUrl,
      LIVEKIT_API_KEY: API_KEY,
      LIVEKIT_API_SECRET: API_SECRET,
      ENCRYPTION_KEY: randomKey,
      ENCRYPTION_KEY_ID: 'k1',
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Seconds on an idle machine; minutes on an overloaded one (PGlite start-up and migrations under tsx).
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`control API exited with ${proc.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) {
      starts++;
      return { proc, startMs: Math.round(performance.now() - t0) };
    }
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error(
    `control API (start #${starts + 1}) did not become ready in ${Math.round(performance.now() - t0)} ms`,
  );
}
const randomKey = randomBytes(32).toString('base64');

async function stopApi(proc: ChildProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill(signal);
  await once(proc, 'exit');
}

describe('control API outage during calls', () => {
  it(`loses and duplicates no transcript segment of ${CALLS} calls across a crash and a restart`, async () => {
    const started = performance.now();
    const livekit = await startFakeLiveKit({ apiKey: API_KEY, apiSecret: API_SECRET });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const startups: number[] = [];
    let api = await startApi(port, livekit.url);
    child = api.proc;
    startups.push(api.startMs);

    const calls: Array<{ callId: string; subjectId: string }> = [];
    for (let i = 0; i < CALLS; i++) {
      const subjectId = `subj-res-${i}`;
      const res = await fetch(`${base}/v1/calls`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(newCallBody(subjectId)),
      });
      expect(res.status).toBe(201);
      calls.push({ callId: ((await res.json()) as { callId: string }).callId, subjectId });
    }

    // Responses seen by the uploaders (through the real fetch), to report what the outage looked like.
    const statuses: Record<string, number> = {};
    const countingFetch: typeof fetch = async (input, init) => {
      try {
        const res = await fetch(input, init);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        return res;
      } catch (err) {
        statuses.network_error = (statuses.network_error ?? 0) + 1;
        throw err;
      }
    };
    const logger = createLogger({ level: 'silent', service: 'resilience' });
    const expected = new Map<string, string[]>();
    const uploaders = calls.map(({ callId, subjectId }) => {
      expected.set(callId, []);
      return new TranscriptUploader({
        baseUrl: base,
        token: AGENT,
        callId,
        subjectId,
        logger,
        requestTimeoutMs: 3000,
        backoff: { initialMs: 200, maxMs: 2000 },
        fetchImpl: countingFetch,
      });
    });

    const feeding = calls.map(async ({ callId }, i) => {
      await sleep(Math.random() * 500);
      for (let k = 0; k < SEGMENTS; k++) {
        const text = `call ${i} segment ${k} ${k % 2 === 0 ? 'caller words' : 'agent reply'}`;
        expected.get(callId)!.push(text);
        uploaders[i]!.add({
          speaker: k % 2 === 0 ? 'caller' : 'agent',
          text,
          startMs: k * 2000,
          endMs: k * 2000 + 1500,
        });
        await sleep(150 + Math.random() * 300);
      }
    });

    // Outage 1: a crash (SIGKILL) 1.2 s in, back after 1.5 s. Outage 2: a graceful stop (SIGTERM), back after 1.5 s.
    const outages: Array<{ signal: string; downMs: number }> = [];
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      await sleep(1200);
      const down = performance.now();
      await stopApi(api.proc, signal);
      await sleep(1500);
      api = await startApi(port, livekit.url);
      child = api.proc;
      startups.push(api.startMs);
      outages.push({ signal, downMs: Math.round(performance.now() - down) });
    }
    await Promise.all(feeding);
    const undelivered = await Promise.all(uploaders.map((u) => u.close(60_000)));

    let lost = 0;
    let duplicated = 0;
    let stored = 0;
    for (const { callId } of calls) {
      const res = await fetch(`${base}/v1/calls/${callId}`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { transcript: Array<{ text: string }> };
      const got = body.transcript.map((s) => s.text);
      stored += got.length;
      const want = expected.get(callId)!;
      lost += want.filter((t) => !got.includes(t)).length;
      duplicated += got.length - new Set(got).size;
    }
    await stopApi(api.proc, 'SIGTERM');
    await livekit.close();

    const summary = {
      test: 'control-api-restart',
      calls: CALLS,
      segmentsSent: CALLS * SEGMENTS,
      segmentsStored: stored,
      segmentsLost: lost,
      segmentsDuplicated: duplicated,
      undeliveredAtClose: undelivered.reduce((a, b) => a + b, 0),
      outages,
      apiStartupMs: startups,
      uploaderResponses: statuses,
      callsAre: 'segment-level (TranscriptUploader fed at 150-450 ms per segment), not audio',
      seconds: Math.round((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(summary));
    expect(outages.length).toBe(2);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(stored).toBe(CALLS * SEGMENTS);
  });
});
