/**
 * The `Db` layer: one Kysely query builder over either PGlite (embedded, `DATA_DIR`) or PostgreSQL (`pg`,
 * `DATABASE_URL`). PGlite is a single connection, so the adapter hands it out behind a mutex; that keeps
 * Kysely transactions from interleaving with other queries.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type DbEngine = 'pglite' | 'postgres';

export interface Db {
  readonly engine: DbEngine;
  readonly kysely: Kysely<Database>;
  /** Runs a multi-statement SQL script (migrations, benchmarks). */
  execScript(script: string): Promise<void>;
  /** Cheap liveness query for /readyz. */
  ping(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface DbOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** In-memory PGlite when neither a URL nor a data dir is given. */
  poolSize?: number;
  statementTimeoutMs?: number;
}

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}

const COMMAND = /^\s*(?:with\b[\s\S]*?\)\s*)?(insert|update|delete|merge|select)\b/i;

/** Presents PGlite as the tiny pool interface Kysely's PostgresDialect expects. */
function pglitePool(pglite: PGlite): PostgresPool {
  const mutex = new Mutex();
  return {
    async connect(): Promise<PostgresPoolClient> {
      const release = await mutex.acquire();
      let released = false;
      return {
        async query(text: string, parameters: ReadonlyArray<unknown>) {
          const res = await pglite.query<Record<string, unknown>>(text, parameters as unknown[]);
          const command = (COMMAND.exec(text)?.[1]?.toUpperCase() ?? 'SELECT') as 'SELECT';
          return { command, rowCount: res.affectedRows ?? res.rows.length, rows: res.rows };
        },
        release() {
          if (released) return;
          released = true;
          release();
        },
      } as unknown as PostgresPoolClient;
    },
    async end() {
      await pglite.close();
    },
  };
}

export async function openDb(options: DbOptions): Promise<Db> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      engine: 'postgres',
      kysely,
      async execScript(script) {
        await pool.query(script);
      },
      ping: (timeoutMs) => ping(kysely, timeoutMs),
      async close() {
        await kysely.destroy();
      },
    };
  }
  const pglite = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  await pglite.waitReady;
  const pool = pglitePool(pglite);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'pglite',
    kysely,
    async execScript(script) {
      const client = await pool.connect();
      try {
        await pglite.exec(script);
      } finally {
        client.release();
      }
    },
    ping: (timeoutMs) => ping(kysely, timeoutMs),
    async close() {
      await kysely.destroy();
    },
  };
}

async function ping(kysely: Kysely<Database>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      sql`select 1`.execute(kysely).then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/**
 * Applies `migrations/NNN_*.sql` in order, each in its own transaction, recording them in
 * `schema_migrations`. An advisory lock keeps two instances from migrating at once.
 */
export async function migrate(db: Db, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  await db.execScript(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: string[] = [];
  for (const file of files) {
    const script = await readFile(join(dir, file), 'utf8');
    const version = file.replace(/\.sql$/, '');
    const escaped = version.replaceAll("'", "''");
    await db.execScript(
      `BEGIN;
       SELECT pg_advisory_xact_lock(72177);
       DO $migrate$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '${escaped}') THEN
           EXECUTE ${dollarQuote(script)};
           INSERT INTO schema_migrations (version) VALUES ('${escaped}');
         END IF;
       END $migrate$;
       COMMIT;`,
    );
    applied.push(version);
  }
  return applied;
}

function dollarQuote(text: string): string {
  if (text.includes('$migrate$')) throw new Error('migrations must not contain $migrate$');
  let tag = 'mig';
  while (text.includes(`$${tag}$`)) tag += 'x';
  return `$${tag}$${text}$${tag}$`;
}
