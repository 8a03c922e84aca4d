/**
 * Transcript upload against the real control API (control-api/src on PGlite) served over real HTTP:
 * the API goes down for 30 s mid-call and comes back on the same port; every segment must then be
 * stored exactly once. A lost response (the API stored the batch but the agent never heard back) is
 * retried and de-duplicated by segment id.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import { createControlApi } from '../../control-api/src/app.ts';
import type { ControlApiConfig } from '../../control-api/src/config.ts';
import { type Db, migrate, openDb } from '../../control-api/src/db/db.ts';
import type { LiveKitGateway } from '../../control-api/src/services/livekit-gateway.ts';
import { createAgentMetrics } from '../src/metrics.ts';
import { segmentId, TranscriptUploader } from '../src/transcript-uploader.ts';

const ADMIN = 'admin-token-0123456789abcdef';
const AGENT = 'agent-token-0123456789abcdef';

/** LiveKit is not under test here: rooms and dispatches just succeed. */
const livekitStub: LiveKitGateway = {
  createRoom: async () => {},
  dispatchAgent: async () => 'AD_test',
  redispatchAgent: async () => 'AD_test2',
  deleteRoom: async () => {},
  listRooms: async (names) => names,
  listParticipants: async () => [],
  callerToken: async () => 'caller-token',
  newCallerIdentity: () => `caller-${randomBytes(4).toString('hex')}`,
};

let db: Db;
let dataDir: string;
let api: ReturnType<typeof createControlApi>;
let server: ServerType | undefined;
let port = 0;
const logger = createLogger({ level: 'silent', service: 'agent-test' });

function listen(onPort: number): Promise<number> {
  return new Promise((resolve) => {
    server = serve({ fetch: api.app.fetch, port: onPort, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
}

function stopServer(): Promise<void> {
  return new Promise((resolve) => {
    const s = server;
    server = undefined;
    if (!s) return resolve();
    s.close(() => resolve());
    (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

async function createCall(subjectId: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      subjectId,
      legalBasis: 'consent',
      consents: [{ purpose: 'transcription', granted: true, noticeVersion: 'v1' }],
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { callId: string }).callId;
}

async function storedTranscript(
  callId: string,
): Promise<Array<{ id: string; text: string; speaker: string }>> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/calls/${callId}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { transcript: Array<{ id: string; text: string; speaker: string }> })
    .transcript;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'agent-ctl-'));
  db = await openDb({ dataDir });
  await migrate(db);
  const config: ControlApiConfig = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir,
    staticTokens: [
      { role: 'admin', token: ADMIN },
      { role: 'agent', token: AGENT },
    ],
    oidc: undefined,
    livekit: { url: 'http://127.0.0.1:1', apiKey: 'k', apiSecret: 's', timeoutSeconds: 1 },
    keyring: { keys: new Map([['k1', randomBytes(32)]]), activeKeyId: 'k1', indexKeyId: 'k1' },
    keyStore: { kind: 'file', dir: `${dataDir}-keys` },
    audit: { hmacKey: randomBytes(32), headFile: `${dataDir}-keys/audit-head.json` },
    retentionDays: 30,
    retentionIntervalMinutes: 60,
    reconcileIntervalSeconds: 60,
    allowedRegions: ['eu-central'],
    agentName: 'riva-call-agent',
    rateLimitPerMinute: 100_000,
    logLevel: 'silent',
  };
  api = createControlApi({ config, db, logger, livekit: livekitStub });
  port = await listen(0);
});

afterAll(async () => {
  await stopServer();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('transcript upload to the control API', () => {
  it('loses and duplicates nothing when the control API is down for 30 s', async () => {
    const subjectId = 'subj-outage';
    const callId = await createCall(subjectId);
    const metrics = createAgentMetrics();
    const uploader = new TranscriptUploader({
      baseUrl: `http://127.0.0.1:${port}`,
      token: AGENT,
      callId,
      subjectId,
      instanceId: 'job-outage',
      logger,
      metrics,
      backoff: { initialMs: 100, maxMs: 2000 },
      requestTimeoutMs: 2000,
    });
    const say = (i: number) =>
      uploader.add({
        speaker: i % 2 ? 'agent' : 'caller',
        text: `segment ${i}`,
        startMs: i * 1000,
        endMs: i * 1000 + 900,
      });

    for (let i = 0; i < 3; i++) say(i);
    await waitFor(() => uploader.deliveredCount === 3, 10_000);

    await stopServer();
    const outageStarted = Date.now();
    for (let i = 3; i < 8; i++) {
      say(i);
      await new Promise((r) => setTimeout(r, 5_500));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - outageStarted))));
    expect(uploader.pendingCount).toBe(5);
    const failures = (await metrics.errors.get()).values.find((v) => v.labels.kind === 'transcript_upload');
    expect(failures?.value ?? 0).toBeGreaterThan(3);

    expect(await listen(port)).toBe(port);
    expect(await uploader.close(15_000)).toBe(0);

    const stored = await storedTranscript(callId);
    expect(stored.map((s) => s.text)).toEqual(Array.from({ length: 8 }, (_, i) => `segment ${i}`));
    expect(new Set(stored.map((s) => s.id)).size).toBe(8);
    expect(stored.map((s) => s.id)).toEqual(
      Array.from({ length: 8 }, (_, i) => segmentId(callId, 'job-outage', i)),
    );
  }, 60_000);

  it('re-sends a batch whose response was lost and the API stores it once', async () => {
    const subjectId = 'subj-lost-response';
    const callId = await createCall(subjectId);
    let lostOnce = false;
    const fetchLosingFirstResponse: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!lostOnce) {
        lostOnce = true;
        await res.arrayBuffer();
        throw new TypeError('fetch failed: connection reset after the request was processed');
      }
      return res;
    };
    const uploader = new TranscriptUploader({
      baseUrl: `http://127.0.0.1:${port}`,
      token: AGENT,
      callId,
      subjectId,
      logger,
      backoff: { initialMs: 50, maxMs: 200 },
      fetchImpl: fetchLosingFirstResponse,
    });
    uploader.add({ speaker: 'caller', text: 'hello', startMs: 0, endMs: 500 });
    uploader.add({ speaker: 'agent', text: 'hi there', startMs: 600, endMs: 1500 });
    expect(await uploader.close(10_000)).toBe(0);
    expect(lostOnce).toBe(true);
    const stored = await storedTranscript(callId);
    expect(stored.map((s) => s.text)).toEqual(['hello', 'hi there']);
  });

  it('keeps undelivered segments in the spool file and resumes from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-spool-'));
    const spoolFile = join(dir, 'spool.jsonl');
    const subjectId = 'subj-spool';
    const callId = await createCall(subjectId);
    const offline = new TranscriptUploader({
      baseUrl: 'http://127.0.0.1:1',
      token: AGENT,
      callId,
      subjectId,
      logger,
      spoolFile,
      backoff: { initialMs: 50, maxMs: 100 },
    });
    offline.add({ speaker: 'caller', text: 'kept', startMs: 0, endMs: 100 });
    expect(await offline.close(300)).toBe(1);

    const resumed = new TranscriptUploader({
      baseUrl: `http://127.0.0.1:${port}`,
      token: AGENT,
      callId,
      subjectId,
      logger,
      spoolFile,
    });
    resumed.add({ speaker: 'agent', text: 'after restart', startMs: 200, endMs: 300 });
    expect(await resumed.close(10_000)).toBe(0);
    expect((await storedTranscript(callId)).map((s) => s.text)).toEqual(['kept', 'after restart']);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a second agent restoring the first one's spool reuses no id the API already holds", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-spool-'));
    const spoolFile = join(dir, 'spool.jsonl');
    const subjectId = 'subj-takeover';
    const callId = await createCall(subjectId);
    const urls = { current: `http://127.0.0.1:${port}` };
    // The first agent delivers two segments, then loses the API and dies with a third one spooled.
    const first = new TranscriptUploader({
      baseUrl: 'http://spool-test.invalid',
      token: AGENT,
      callId,
      subjectId,
      logger,
      spoolFile,
      backoff: { initialMs: 50, maxMs: 100 },
      fetchImpl: (input, init) =>
        fetch(String(input).replace('http://spool-test.invalid', urls.current), init),
    });
    first.add({ speaker: 'agent', text: 'one', startMs: 0, endMs: 100 });
    first.add({ speaker: 'caller', text: 'two', startMs: 200, endMs: 300 });
    await waitFor(() => first.deliveredCount === 2, 10_000);
    urls.current = 'http://127.0.0.1:1';
    first.add({ speaker: 'agent', text: 'three', startMs: 400, endMs: 500 });
    expect(await first.close(300)).toBe(1);

    const second = new TranscriptUploader({
      baseUrl: `http://127.0.0.1:${port}`,
      token: AGENT,
      callId,
      subjectId,
      logger,
      spoolFile,
    });
    second.add({ speaker: 'agent', text: 'four', startMs: 600, endMs: 700 });
    second.add({ speaker: 'caller', text: 'five', startMs: 800, endMs: 900 });
    expect(await second.close(10_000)).toBe(0);
    const stored = await storedTranscript(callId);
    expect(stored.map((s) => s.text)).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(new Set(stored.map((s) => s.id)).size).toBe(5);
    rmSync(dir, { recursive: true, force: true });
  });
});
