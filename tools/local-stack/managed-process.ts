/**
 * A child process of the local stack: its output is kept (the last few hundred KB) so a failing test can
 * print it, lines can be awaited, and it stops with SIGTERM then SIGKILL after a grace period.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';

const KEEP_BYTES = 512 * 1024;

export interface ManagedProcessOptions {
  name: string;
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called for every complete output line (stdout and stderr). */
  onLine?: (line: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  #output = '';
  #partial = '';
  #lines = new EventEmitter();
  #exit: ExitInfo | undefined;

  constructor(opts: ManagedProcessOptions) {
    this.name = opts.name;
    const [cmd, ...args] = opts.argv;
    if (!cmd) throw new Error(`${opts.name}: empty command`);
    this.child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#lines.setMaxListeners(100);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.#output += text;
      if (this.#output.length > KEEP_BYTES) this.#output = this.#output.slice(-KEEP_BYTES);
      const parts = (this.#partial + text).split('\n');
      this.#partial = parts.pop() ?? '';
      for (const line of parts) {
        opts.onLine?.(line);
        this.#lines.emit('line', line);
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.#output += `\n[${this.name}] spawn failed: ${err.message}\n`;
        this.#exit = { code: -1, signal: null };
        this.#lines.emit('exit');
        resolve(this.#exit);
      });
      this.child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#lines.emit('exit');
        resolve(this.#exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Everything kept of the output, prefixed with the process name. */
  output(): string {
    return `----- ${this.name} (pid ${this.pid ?? '?'}${this.#exit ? `, exited ${JSON.stringify(this.#exit)}` : ''}) -----\n${this.#output}`;
  }

  /** Resolves with the first line (already printed or future) that matches; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, timeoutMs: number, { fromStart = true } = {}): Promise<string> {
    if (fromStart) {
      const hit = this.#output.split('\n').find((l) => pattern.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.#lines.off('line', onLine);
        this.#lines.off('exit', onExit);
      };
      const onLine = (line: string) => {
        if (!pattern.test(line)) return;
        cleanup();
        resolve(line);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`${this.name} exited (${JSON.stringify(this.#exit)}) before printing ${pattern}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#lines.on('line', onLine);
      this.#lines.once('exit', onExit);
      if (!this.running) onExit();
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5000): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }
}

/** Polls `probe` until it resolves true; rejects after `timeoutMs` with the last error. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}
