/**
 * Starts a throwaway PostgreSQL 15 cluster from Debian's `postgresql-15` binaries: initdb into a fresh temp
 * dir, start on a free loopback port, and remove everything on stop. initdb refuses to run as root, so as root
 * the binaries run as the `postgres` user (runuser); otherwise as the current user. Used by the test global
 * setup and by `bench/control-api.ts`.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPostgres {
  /** Superuser URL of the `postgres` database (user `ctl`, trust auth, loopback only). */
  url: string;
  dataDir: string;
  port: number;
  stop(): Promise<void>;
}

export function postgresBinDir(): string | undefined {
  for (const v of ['17', '16', '15']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPostgres(options: { binDir?: string } = {}): Promise<TestPostgres> {
  const bin = options.binDir ?? postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found (install postgresql-15)');
  const asRoot = process.getuid?.() === 0;
  const exec = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);

  const root = mkdtempSync(join(tmpdir(), 'ctl-pg-'));
  const dataDir = join(root, 'data');
  const sockDir = join(root, 'sock');
  mkdirSync(sockDir);
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(root, uid, gid);
    chownSync(sockDir, uid, gid);
  }
  await exec('initdb', ['-D', dataDir, '-U', 'ctl', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    `-k ${sockDir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  await exec('pg_ctl', ['-D', dataDir, '-o', opts, '-l', join(root, 'log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://ctl@127.0.0.1:${port}/postgres`,
    dataDir,
    port,
    async stop() {
      await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}
