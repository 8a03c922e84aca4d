import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Starts `npm run control-api`'s entry with a real environment; resolves with its port once listening. */
function startMain(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number; output: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'control-api/src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const m = /"port":(\d+)/.exec(output.join(''));
      if (m) resolve({ child, port: Number(m[1]), output });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output.join('')}`)));
  });
}

async function database(
  engine: 'pglite' | 'postgres',
): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  // The key store and the signed audit head belong to this database: a head left by another run would
  // (rightly) say the new database's audit log is not the one it witnessed.
  const keys = mkdtempSync(join(tmpdir(), 'ctl-main-keys-'));
  const dropKeys = () => rmSync(keys, { recursive: true, force: true });
  if (engine === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-main-'));
    return {
      env: { DATA_DIR: dir, KEY_STORE_DIR: keys },
      drop: async () => {
        rmSync(dir, { recursive: true, force: true });
        dropKeys();
      },
    };
  }
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('TEST_DATABASE_URL is not set');
  const name = `ctl_main_${randomUUID().replaceAll('-', '')}`;
  const c = new pg.Client(admin);
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), KEY_STORE_DIR: keys },
    async drop() {
      dropKeys();
      const d = new pg.Client(admin);
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

describe.each(['pglite', 'postgres'] as const)('control-api entry point on %s', (engine) => {
  it('serves, reports ready, and exits 0 on SIGTERM', async () => {
    const db = await database(engine);
    let started: ChildProcess | undefined;
    try {
      const { child, port, output } = await startMain({
        ...db.env,
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        CONTROL_API_TOKENS: 'viewer:viewer-token-main-0123456789',
      });
      started = child;
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const calls = await fetch(`${base}/v1/calls`, {
        headers: { authorization: 'Bearer viewer-token-main-0123456789' },
      });
      expect(calls.status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.join('')).toContain('"msg":"stopped"');
    } finally {
      if (started && started.exitCode === null) started.kill('SIGKILL');
      await db.drop();
    }
  }, 600_000);
});

describe('control-api entry point configuration', () => {
  it('refuses to start with a bad configuration, naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'control-api/src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ENCRYPTION_KEY: 'short', DATA_DIR: tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('32 bytes');
  }, 600_000);
});
