/**
 * `npx tsx bench/control-api.ts [--rows N] [--seconds S] [--connections C] [--engines pglite,postgres]
 *   [--only webhooks|storage]`
 *
 * Control API figures on PGlite and on a throwaway PostgreSQL 15 (started here like the tests do):
 *  - verified LiveKit webhooks per second and latency p50/p99: autocannon against a real server running in a
 *    child process pinned to one core (`taskset -c 0`); every request is a distinct, correctly signed event
 *    (HS256 JWT with the body's SHA-256), so each one is verified, de-duplicated and written to the outbox,
 *    and the state machine applies them in the same process while the load runs;
 *  - time to erase one subject with 10k transcript segments among `--rows` segments (default 1,000,000 on
 *    PostgreSQL, 200,000 on PGlite, whose WASM inserts are slow; the table says what was used);
 *  - memory while streaming a subject export (10k real encrypted segments, and 1k for comparison).
 * Prints a progress line per phase, a table, and one JSON line (collected by `npm run bench`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { serve } from '@hono/node-server';
import { WebhookEvent } from '@livekit/protocol';
import { SignJWT } from 'jose';
import { sql } from 'kysely';
import pg from 'pg';
import { createLogger } from '../common/src/logger.ts';
import { createMetricsRegistry } from '../common/src/metrics.ts';
import { createControlApi } from '../control-api/src/app.ts';
import type { ControlApiConfig } from '../control-api/src/config.ts';
import { type Db, type DbEngine, migrate, openDb } from '../control-api/src/db/db.ts';
import { seal } from '../control-api/src/lib/crypto.ts';
import type { LiveKitGateway } from '../control-api/src/services/livekit-gateway.ts';
import { segmentAad } from '../control-api/src/services/transcripts-service.ts';
import { startPostgres } from '../test-support/postgres.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const API_KEY = 'APIbench';
const API_SECRET = 'bench-secret-long-enough-for-hs256-signing';
const ROOMS = 50;

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const argNumber = (name: string, fallback: number) => Number(argValue(name) ?? fallback);
const progress = (msg: string) => console.log(`control-api: ${msg}`);

function benchConfig(): ControlApiConfig {
  const keyDir = mkdtempSync(join(tmpdir(), 'bench-keys-'));
  return {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir: './data',
    staticTokens: [{ role: 'dpo', token: 'bench-dpo-token-0123456789' }],
    oidc: undefined,
    livekit: { url: 'http://127.0.0.1:9', apiKey: API_KEY, apiSecret: API_SECRET, timeoutSeconds: 2 },
    keyring: { keys: new Map([['k1', Buffer.alloc(32, 7)]]), activeKeyId: 'k1', indexKeyId: 'k1' },
    keyStore: { kind: 'file', dir: keyDir },
    audit: { hmacKey: Buffer.alloc(32, 9), headFile: join(keyDir, 'audit-head.json') },
    retentionDays: 30,
    retentionIntervalMinutes: 60,
    reconcileIntervalSeconds: 60,
    allowedRegions: ['eu-central'],
    agentName: 'riva-call-agent',
    rateLimitPerMinute: 1_000_000,
    logLevel: 'silent',
  };
}

/** The webhook benchmark never reaches LiveKit; anything that tries is a bug. */
const noLiveKit: LiveKitGateway = {
  createRoom: () => Promise.reject(new Error('not in bench')),
  dispatchAgent: () => Promise.reject(new Error('not in bench')),
  redispatchAgent: () => Promise.reject(new Error('not in bench')),
  deleteRoom: () => Promise.resolve(),
  listRooms: () => Promise.resolve([]),
  listParticipants: () => Promise.resolve([]),
  callerToken: () => Promise.resolve(''),
  newCallerIdentity: () => 'caller',
};

async function openBenchDb(engine: DbEngine, target: string): Promise<Db> {
  const db =
    engine === 'pglite'
      ? await openDb({ dataDir: target })
      : await openDb({ databaseUrl: target, poolSize: 10, statementTimeoutMs: 900_000 });
  await migrate(db);
  return db;
}

async function createDatabase(adminUrl: string): Promise<string> {
  const name = `bench_${randomUUID().replaceAll('-', '')}`;
  const c = new pg.Client(adminUrl);
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

// ---------------------------------------------------------------------------------------------------------
// Child: the server under load.

async function serveChild(engine: DbEngine, target: string): Promise<void> {
  const db = await openBenchDb(engine, target);
  const now = new Date();
  await db.kysely
    .insertInto('calls')
    .values(
      Array.from({ length: ROOMS }, (_, i) => ({
        id: randomUUID(),
        room_name: `call-bench-${i}`,
        subject_ref: `bench-subject-${i}`,
        region: 'eu-central',
        legal_basis: 'consent',
        state: 'created',
        caller_identity: `caller-${i}`,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
  const api = createControlApi({
    config: benchConfig(),
    db,
    livekit: noLiveKit,
    logger: createLogger({ level: 'silent', service: 'bench' }),
    registry: createMetricsRegistry({ service: 'bench' }),
  });
  const server = serve({ fetch: api.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    process.stdout.write(`port ${info.port}\n`);
  });
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', async (line: string) => {
    if (!line.startsWith('stats')) return;
    const started = performance.now();
    await api.services.webhooks.drain();
    const drainMs = performance.now() - started;
    const rows = await db.kysely
      .selectFrom('webhook_events')
      .select((eb) => [eb.fn.countAll<string>().as('n'), 'result'])
      .groupBy('result')
      .execute();
    process.stdout.write(`stats ${JSON.stringify({ drainMs, byResult: rows })}\n`);
  });
  process.stdin.on('end', () => {
    server.close();
    void db.close().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Parent.

async function signedEvents(count: number): Promise<Array<{ body: string; auth: string }>> {
  const secret = new TextEncoder().encode(API_SECRET);
  const out: Array<{ body: string; auth: string }> = [];
  const kinds = ['participant_joined', 'track_published', 'participant_left', 'room_started'];
  for (let i = 0; i < count; i += 1) {
    const room = `call-bench-${i % ROOMS}`;
    const ev = new WebhookEvent({
      event: kinds[i % kinds.length] ?? 'room_started',
      id: `EV_bench_${i}_${randomUUID().slice(0, 8)}`,
      createdAt: BigInt(Math.floor(Date.now() / 1000)),
      room: { name: room, sid: `RM_${i % ROOMS}` },
      participant: { identity: `caller-${i % 7}`, sid: `PA_${i}`, kind: 0 },
    });
    const body = ev.toJsonString();
    const sha256 = (await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))) as ArrayBuffer;
    const auth = await new SignJWT({ sha256: Buffer.from(sha256).toString('base64') })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(API_KEY)
      .setExpirationTime('30m')
      .sign(secret);
    out.push({ body, auth });
  }
  return out;
}

function startChild(
  engine: DbEngine,
  target: string,
): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const script = fileURLToPath(import.meta.url);
  const args = ['--import', 'tsx', script, '--serve', engine, target];
  const child = spawn('taskset', ['-c', '0', process.execPath, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const m = /^port (\d+)$/.exec(line);
        if (m) resolve({ child, port: Number(m[1]), lines });
      }
    });
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
}

async function webhookBench(engine: DbEngine, target: string, seconds: number, connections: number) {
  const { child, port, lines } = await startChild(engine, target);
  const events = await signedEvents(Math.max(20_000, Math.ceil(seconds * 6_000)));
  let next = 0;
  const run = (duration: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration,
      requests: [
        {
          method: 'POST',
          path: '/v1/webhooks/livekit',
          setupRequest: (req: Record<string, unknown>) => {
            const ev = events[next++ % events.length]!;
            return {
              ...req,
              body: ev.body,
              headers: { 'content-type': 'application/webhook+json', authorization: ev.auth },
            };
          },
        },
      ],
    });
  await run(2); // warm-up: JIT, connection pool, PGlite caches
  const result = await run(seconds);
  child.stdin?.write('stats\n');
  const stats = await new Promise<string>((resolve) => {
    const timer = setInterval(() => {
      const line = lines.find((l) => l.startsWith('stats '));
      if (line) {
        clearInterval(timer);
        resolve(line.slice(6));
      }
    }, 50);
  });
  child.stdin?.end();
  await new Promise((r) => child.once('exit', r));
  return {
    engine,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    outbox: JSON.parse(stats) as { drainMs: number },
  };
}

const gc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

async function seedSegments(db: Db, total: number, targets: string[], perTarget: number): Promise<void> {
  const filler = Math.max(0, total - targets.length * perTarget);
  const fillerCalls = Math.max(1, Math.ceil(filler / 100));
  // Filler: 100 segments per call, 1,000 subjects, fake ciphertext (never decrypted here).
  await db.execScript(`
    INSERT INTO calls (id, room_name, subject_ref, region, legal_basis, state, caller_identity, created_at, updated_at)
    SELECT md5('c' || g)::uuid, 'call-fill-' || g, 'fill-subject-' || (g % 1000), 'eu-central', 'consent', 'ended',
           'caller-' || g, now(), now()
    FROM generate_series(1, ${fillerCalls}) g;
    INSERT INTO transcript_segments (id, call_id, subject_ref, speaker, start_ms, end_ms, nonce, ciphertext, created_at)
    SELECT 'fill-' || g, md5('c' || (1 + g / 100))::uuid, 'fill-subject-' || ((1 + g / 100) % 1000), 'caller',
           g % 100 * 1000, g % 100 * 1000 + 900, decode(substr(md5(g::text), 1, 24), 'hex'),
           decode(md5(g::text) || md5((g + 1)::text), 'hex'), now()
    FROM generate_series(0, ${filler - 1}) g
    WHERE g / 100 < ${fillerCalls};
  `);
  void targets;
}

async function seedSubject(
  db: Db,
  api: ReturnType<typeof createControlApi>,
  subjectId: string,
  count: number,
) {
  const ref = api.services.keyring.subjectRef(subjectId);
  const now = new Date();
  const callIds = Array.from({ length: Math.ceil(count / 100) }, () => randomUUID());
  await db.kysely
    .insertInto('calls')
    .values(
      callIds.map((id) => ({
        id,
        room_name: `call-${id}`,
        subject_ref: ref,
        region: 'eu-central',
        legal_basis: 'consent',
        state: 'ended',
        caller_identity: `caller-${id}`,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
  const dek = await db.kysely.transaction().execute((trx) => api.services.subjectKeys.dataKey(trx, ref));
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i += 1) {
      const callId = callIds[Math.floor(i / 100)]!;
      const id = `${subjectId}-seg-${i}`;
      const text = `segment ${i} of ${subjectId}: ${randomBytes(24).toString('base64')}`;
      const sealed = seal(dek, Buffer.from(text), segmentAad(callId, id, ref));
      rows.push({
        id,
        call_id: callId,
        subject_ref: ref,
        speaker: i % 2 === 0 ? 'caller' : 'agent',
        start_ms: (i % 100) * 1000,
        end_ms: (i % 100) * 1000 + 900,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
        created_at: now,
      });
    }
    await db.kysely.insertInto('transcript_segments').values(rows).execute();
  }
}

async function exportMemory(api: ReturnType<typeof createControlApi>, subjectId: string) {
  gc();
  const base = process.memoryUsage();
  let peakHeap = base.heapUsed;
  let peakRss = base.rss;
  let bytes = 0;
  const started = performance.now();
  for await (const chunk of api.services.gdpr.exportSubject({ id: 'bench', roles: ['dpo'] }, subjectId)) {
    bytes += Buffer.byteLength(chunk);
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }
  return {
    exportMs: Math.round(performance.now() - started),
    exportBytes: bytes,
    peakHeapDeltaMB: +((peakHeap - base.heapUsed) / 1e6).toFixed(1),
    peakRssDeltaMB: +((peakRss - base.rss) / 1e6).toFixed(1),
  };
}

async function storageBench(engine: DbEngine, target: string, rows: number) {
  const db = await openBenchDb(engine, target);
  const api = createControlApi({
    config: benchConfig(),
    db,
    livekit: noLiveKit,
    logger: createLogger({ level: 'silent', service: 'bench' }),
    registry: createMetricsRegistry({ service: 'bench' }),
  });
  const perTarget = 10_000;
  const targets = ['bench-export', 'bench-erase-1', 'bench-erase-2', 'bench-erase-3'];
  let t = performance.now();
  progress(
    `${engine}: seeding ${rows.toLocaleString()} segments (${targets.length} subjects with ${perTarget.toLocaleString()} each)`,
  );
  await seedSegments(db, rows, targets, perTarget);
  for (const s of targets) await seedSubject(db, api, s, perTarget);
  await seedSubject(db, api, 'bench-export-small', 1_000);
  await sql`analyze`.execute(db.kysely);
  const count = await db.kysely
    .selectFrom('transcript_segments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const seedSeconds = +((performance.now() - t) / 1000).toFixed(1);
  progress(`${engine}: ${Number(count.n).toLocaleString()} segments seeded in ${seedSeconds} s; exporting`);

  const small = await exportMemory(api, 'bench-export-small');
  const large = await exportMemory(api, 'bench-export');
  progress(`${engine}: erasing ${targets.length} subjects of ${perTarget.toLocaleString()} segments`);
  const eraseMs: number[] = [];
  const principal = { id: 'bench', roles: ['dpo' as const] };
  for (const s of targets) {
    t = performance.now();
    const out = await api.services.gdpr.erase(principal, s, { dryRun: false, reason: 'benchmark' });
    eraseMs.push(performance.now() - t);
    if (out.erased.transcriptSegments !== perTarget)
      throw new Error(`erased ${out.erased.transcriptSegments}`);
  }
  await db.close();
  const sorted = [...eraseMs].sort((a, b) => a - b);
  return {
    engine,
    totalSegments: Number(count.n),
    seedSeconds,
    eraseMsMedian: +(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1),
    eraseMsAll: eraseMs.map((v) => +v.toFixed(1)),
    export10k: large,
    export1k: small,
  };
}

async function main(): Promise<void> {
  // The server child runs on core 0; keep the load generator (and its signing) off it.
  spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const engines = (argValue('engines') ?? 'pglite,postgres').split(',') as DbEngine[];
  const seconds = argNumber('seconds', 10);
  const connections = argNumber('connections', 32);
  const rowsArg = argValue('rows');
  const only = argValue('only');
  const rowsFor = (e: DbEngine) => (rowsArg ? Number(rowsArg) : e === 'postgres' ? 1_000_000 : 200_000);
  const tmp = mkdtempSync(join(tmpdir(), 'ctl-bench-'));
  const needsPg = engines.includes('postgres');
  progress(needsPg ? 'starting a throwaway PostgreSQL 15' : 'PGlite only');
  const postgres = needsPg ? await startPostgres() : undefined;
  const webhooks = [];
  const storage = [];
  // Calibration: on a quiet machine a loopback `select 1` takes about 0.1 ms; other load shows up here.
  const loadBefore = loadavg()[0] ?? 0;
  let select1Ms: number | null = null;
  try {
    if (postgres) {
      const c = new pg.Client(postgres.url);
      await c.connect();
      const times: number[] = [];
      for (let i = 0; i < 200; i += 1) {
        const t = performance.now();
        await c.query('select 1');
        times.push(performance.now() - t);
      }
      await c.end();
      times.sort((a, b) => a - b);
      select1Ms = +(times[100] ?? 0).toFixed(3);
    }
    for (const engine of only === 'storage' ? [] : engines) {
      const target = engine === 'pglite' ? join(tmp, `wh-${engine}`) : await createDatabase(postgres!.url);
      progress(`${engine}: webhooks, ${connections} connections for ${seconds} s (server on one core)`);
      webhooks.push(await webhookBench(engine, target, seconds, connections));
    }
    for (const engine of only === 'webhooks' ? [] : engines) {
      const target = engine === 'pglite' ? join(tmp, `st-${engine}`) : await createDatabase(postgres!.url);
      storage.push(await storageBench(engine, target, rowsFor(engine)));
    }
  } finally {
    await postgres?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  console.log('');
  console.log('| engine | verified webhooks/s | p50 ms | p99 ms | non-2xx | outbox drain after load |');
  console.log('|---|---|---|---|---|---|');
  for (const w of webhooks) {
    console.log(
      `| ${w.engine} | ${w.requestsPerSecond} | ${w.p50Ms} | ${w.p99Ms} | ${w.non2xx + w.errors} | ${Math.round(w.outbox.drainMs)} ms |`,
    );
  }
  console.log('');
  console.log(
    '| engine | segments in table | erase 10k segments (median of 4) | export 10k: time, bytes | export peak heap Δ 1k / 10k | export peak RSS Δ 1k / 10k |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const s of storage) {
    console.log(
      `| ${s.engine} | ${s.totalSegments.toLocaleString()} | ${s.eraseMsMedian} ms | ${s.export10k.exportMs} ms, ${(s.export10k.exportBytes / 1e6).toFixed(1)} MB | ${s.export1k.peakHeapDeltaMB} / ${s.export10k.peakHeapDeltaMB} MB | ${s.export1k.peakRssDeltaMB} / ${s.export10k.peakRssDeltaMB} MB |`,
    );
  }
  console.log('');
  console.log('Targets: >= 2,000 webhooks/s, p99 < 50 ms, erase < 100 ms.');
  const loadAfter = loadavg()[0] ?? 0;
  console.log(
    `Machine: ${cpus().length} cores, load average ${loadBefore.toFixed(1)} before / ${loadAfter.toFixed(1)} after; ` +
      `PostgreSQL loopback 'select 1' median ${select1Ms ?? '-'} ms.`,
  );
  const machine = { cores: cpus().length, loadBefore, loadAfter, select1Ms };
  console.log(JSON.stringify({ benchmark: 'control-api', seconds, connections, machine, webhooks, storage }));
}

if (process.argv.includes('--serve')) {
  const i = process.argv.indexOf('--serve');
  await serveChild(process.argv[i + 1] as DbEngine, process.argv[i + 2] ?? '');
} else {
  await main();
}
