/**
 * A speech server in its own process (`speech-server/src/main.ts` under tsx), as the denial-of-service
 * tests need: its threads and RSS are read from /proc, and it gets real signals. The address comes from
 * its "listening" log line (SPEECH_SERVER_PORT=0), so nothing races for a port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { type Clients, PCM16K } from '../helpers.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

export interface ProcStats {
  threads: number;
  rssMb: number;
}

/** Threads and resident memory of a process (Linux /proc). */
export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { threads: field('Threads'), rssMb: Math.round(field('VmRSS') / 1024) };
}

export interface LogLine {
  msg?: string;
  [key: string]: unknown;
}

export interface ServerChild {
  child: ChildProcess;
  pid: number;
  address: string;
  lines: LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line whose msg is `msg` (already seen or future); rejects after `ms`. */
  waitForLog(msg: string, ms: number): Promise<LogLine>;
  stats(): ProcStats;
  /** SIGKILL if still running (test cleanup). */
  kill(): Promise<void>;
}

export async function spawnSpeechServer(env: Record<string, string>): Promise<ServerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}speech-server/src/main.ts`], {
    cwd: ROOT,
    env: {
      ...process.env,
      SPEECH_SERVER_HOST: '127.0.0.1',
      SPEECH_SERVER_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    lines.push(JSON.parse(line) as LogLine);
    for (const l of listeners) l();
  });
  let exitState: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exitState = { code, signal };
      resolve(exitState);
      for (const l of listeners) l();
    }),
  );
  const waitForLog = (msg: string, ms: number) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const hit = lines.find((l) => l.msg === msg);
        if (hit) done(() => resolve(hit));
        else if (exitState) done(() => reject(new Error(`speech server exited before logging "${msg}"`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no "${msg}" log line in ${ms} ms`))), ms);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        fn();
      };
      listeners.add(check);
      check();
    });
  const listening = await waitForLog('speech server listening', 60_000);
  const pid = child.pid!;
  return {
    child,
    pid,
    address: String(listening.address),
    lines,
    exited,
    waitForLog,
    stats: () => procStats(pid),
    async kill() {
      if (exitState) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Resolves once a new stream is refused with RESOURCE_EXHAUSTED, i.e. the streams opened before have
 * reached the server and hold every slot. Bounded: `tries` attempts; throws if none is refused.
 */
export async function untilRefused(clients: Clients, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const code = await new Promise<grpc.status>((resolve) => {
      const call = clients.asr.StreamingRecognize();
      call.on('data', () => {});
      call.on('error', (e: grpc.ServiceError) => resolve(e.code));
      call.on('end', () => resolve(grpc.status.OK));
      call.write({ streaming_config: { config: PCM16K } });
      call.end();
    });
    if (code === grpc.status.RESOURCE_EXHAUSTED) return;
  }
  throw new Error(`no stream refused in ${tries} tries: the slots are not all held`);
}
