/**
 * The Riva-compatible CPU speech server (speech-server/) for runs without RIVA_URL: in this process
 * (fast start, used by `npm run simulate` and the tests) or as a child process (the benchmark, so
 * the agent's CPU is measured apart from the recogniser's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { resolve } from 'node:path';
import { createLogger } from '../../../common/src/logger.ts';
import { startSpeechServer } from '../../../speech-server/src/server.ts';

export interface LocalSpeechServer {
  url: string;
  port: number;
  /** The child's pid when run as a child process. */
  pid?: number;
  stop(): Promise<void>;
}

export async function startLocalSpeechServer(
  options: { mode?: 'in-process' | 'child'; port?: number; maxStreams?: number } = {},
): Promise<LocalSpeechServer> {
  if ((options.mode ?? 'in-process') === 'in-process') {
    const server = await startSpeechServer({
      host: '127.0.0.1',
      port: options.port ?? 0,
      ...(options.maxStreams ? { maxStreams: options.maxStreams } : {}),
      logger: createLogger({ level: 'warn', service: 'speech-server' }),
    });
    // Decoders load in the background; a call should not pay for that on its first utterance.
    await server.warmed;
    return {
      url: `127.0.0.1:${server.port}`,
      port: server.port,
      stop: async () => {
        await server.stop();
      },
    };
  }
  const port = options.port ?? (await freePort());
  const root = resolve(new URL('../../..', import.meta.url).pathname);
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'speech-server/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      SPEECH_SERVER_HOST: '127.0.0.1',
      SPEECH_SERVER_PORT: String(port),
      ...(options.maxStreams ? { SPEECH_SERVER_MAX_STREAMS: String(options.maxStreams) } : {}),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, child, 30_000);
  return {
    url: `127.0.0.1:${port}`,
    port,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`speech server exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((done) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`speech server did not listen on port ${port} within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}
