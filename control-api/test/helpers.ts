/**
 * Test harness: every test file runs its suites on PGlite (its own data dir) and on the shared PostgreSQL 15
 * from the global setup (its own database per file), against a fake LiveKit over loopback.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { WebhookEvent } from '@livekit/protocol';
import { SignJWT } from 'jose';
import pg from 'pg';
import { createLogger } from '../../common/src/logger.ts';
import { createMetricsRegistry } from '../../common/src/metrics.ts';
import { type ControlApi, createControlApi } from '../src/app.ts';
import type { ControlApiConfig, Role } from '../src/config.ts';
import { type Db, type DbEngine, migrate, openDb } from '../src/db/db.ts';
import { type FakeLiveKit, startFakeLiveKit } from './fake-livekit.ts';

export const ENGINES: DbEngine[] = ['pglite', 'postgres'];

export const API_KEY = 'APItestkey';
export const API_SECRET = 'test-secret-that-is-long-enough-for-hs256';

export const TOKENS: Record<Role, string> = {
  admin: 'admin-token-0123456789abcdef',
  dpo: 'dpo-token-0123456789abcdef',
  agent: 'agent-token-0123456789abcdef',
  viewer: 'viewer-token-0123456789abcdef',
};

export interface TestDb {
  db: Db;
  /** PGlite: its data dir. PostgreSQL: the cluster's data dir (shared by all files). */
  dataDir: string | undefined;
  close(): Promise<void>;
}

export async function openTestDb(engine: DbEngine): Promise<TestDb> {
  if (engine === 'pglite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctl-pglite-'));
    const db = await openDb({ dataDir });
    await migrate(db);
    return {
      db,
      dataDir,
      async close() {
        await db.close().catch(() => {});
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl)
    throw new Error('TEST_DATABASE_URL is not set: run through vitest (test-support/global-setup.ts)');
  const name = `ctl_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openDb({ databaseUrl: url.toString(), poolSize: 5 });
  await migrate(db);
  return {
    db,
    dataDir: process.env.TEST_PG_DATA_DIR,
    async close() {
      await db.close().catch(() => {});
      const a = new pg.Client(adminUrl);
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export function testConfig(livekitUrl: string, overrides: Partial<ControlApiConfig> = {}): ControlApiConfig {
  const keyDir = mkdtempSync(join(tmpdir(), 'ctl-keys-'));
  return {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir: './data',
    staticTokens: (Object.entries(TOKENS) as Array<[Role, string]>).map(([role, token]) => ({ role, token })),
    oidc: undefined,
    livekit: { url: livekitUrl, apiKey: API_KEY, apiSecret: API_SECRET, timeoutSeconds: 5 },
    keyring: { keys: new Map([['k1', randomBytes(32)]]), activeKeyId: 'k1', indexKeyId: 'k1' },
    keyStore: { kind: 'file', dir: keyDir },
    audit: { hmacKey: randomBytes(32), headFile: join(keyDir, 'audit-head.json') },
    retentionDays: 30,
    retentionIntervalMinutes: 60,
    reconcileIntervalSeconds: 60,
    allowedRegions: ['eu-central'],
    agentName: 'riva-call-agent',
    rateLimitPerMinute: 10_000,
    logLevel: 'silent',
    ...overrides,
  };
}

/** Captured log lines, to assert that nothing personal is written. */
export function logCapture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', service: 'control-api-test', destination }) };
}

export interface Harness {
  api: ControlApi;
  db: Db;
  testDb: TestDb;
  livekit: FakeLiveKit;
  config: ControlApiConfig;
  logLines: string[];
  /** The clock the services see; tests move it. */
  clock: { now: Date };
  request(
    method: string,
    path: string,
    options?: { role?: Role; token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function createHarness(
  engine: DbEngine,
  overrides: Partial<ControlApiConfig> = {},
  testDb?: TestDb,
): Promise<Harness> {
  const livekit = await startFakeLiveKit({ apiKey: API_KEY, apiSecret: API_SECRET });
  const tdb = testDb ?? (await openTestDb(engine));
  const config = testConfig(livekit.url, overrides);
  const clock = { now: new Date() };
  const { lines, logger } = logCapture();
  const api = createControlApi({
    config,
    db: tdb.db,
    logger,
    registry: createMetricsRegistry({ service: 'control-api-test' }),
    now: () => new Date(clock.now.getTime()),
  });
  return {
    api,
    db: tdb.db,
    testDb: tdb,
    livekit,
    config,
    logLines: lines,
    clock,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token ?? (options.role ? TOKENS[options.role] : undefined);
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (options.body !== undefined) {
        body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
        headers['content-length'] ??= String(Buffer.byteLength(body));
      }
      return api.app.request(path, { method, headers, body });
    },
    async close() {
      await api.services.webhooks.stop();
      await api.services.audit.settle();
      await api.services.keyStore.close();
      if (config.keyStore.kind === 'file') rmSync(config.keyStore.dir, { recursive: true, force: true });
      // The audit head's temporary directory (the key store's, unless a test chose another key store).
      rmSync(dirname(config.audit.headFile), { recursive: true, force: true });
      await livekit.close();
      if (!testDb) await tdb.close();
    },
  };
}

export function newCallBody(subjectId: string, extra: Record<string, unknown> = {}) {
  return {
    subjectId,
    region: 'eu-central',
    legalBasis: 'consent',
    consents: [{ purpose: 'transcription', granted: true, noticeVersion: 'v3' }],
    ...extra,
  };
}

export async function createCall(
  h: Harness,
  subjectId: string,
): Promise<{ callId: string; roomName: string }> {
  const res = await h.request('POST', '/v1/calls', { role: 'admin', body: newCallBody(subjectId) });
  if (res.status !== 201) throw new Error(`create call failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { callId: string; roomName: string };
}

/** Signs a webhook body the way LiveKit does: HS256 JWT, iss = API key, sha256 = base64(SHA-256(body)). */
export async function signWebhook(
  body: string,
  options: { apiKey?: string; apiSecret?: string; expiresInSeconds?: number } = {},
): Promise<string> {
  const sha256 = createHash('sha256').update(body).digest('base64');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sha256 })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.apiKey ?? API_KEY)
    .setNotBefore(now - 60)
    .setExpirationTime(now + (options.expiresInSeconds ?? 300))
    .sign(new TextEncoder().encode(options.apiSecret ?? API_SECRET));
}

let eventCounter = 0;

/** Builds a protojson webhook body with @livekit/protocol (the SDK's own WebhookEvent drops `event`). */
export function webhookBody(
  event: string,
  fields: Record<string, unknown> = {},
): { id: string; body: string } {
  const id = `EV_${randomUUID().slice(0, 12)}_${++eventCounter}`;
  const ev = new WebhookEvent({
    event,
    id,
    createdAt: BigInt(Math.floor(Date.now() / 1000)),
    ...(fields as Partial<WebhookEvent>),
  });
  return { id, body: ev.toJsonString() };
}

export async function postWebhook(h: Harness, body: string, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/webhook+json' };
  const auth = authorization ?? (await signWebhook(body));
  if (auth) headers.authorization = auth;
  return h.api.app.request('/v1/webhooks/livekit', { method: 'POST', headers, body });
}

/**
 * Hook timeout for opening PGlite and creating databases. About 5 s on a quiet 2-core machine; a shared, loaded
 * machine has taken minutes, and a timed-out hook silently skips the whole suite.
 */
export const HOOK_TIMEOUT_MS = 600_000;
