/**
 * Calls on the local stack, the way an admin and a caller place them: `createCall` asks the control API
 * for a room and a caller token (`POST /v1/calls`); `runCallerProcess` runs the caller command inside the
 * stack's namespace (WebRTC needs its non-loopback address) and reads what it wrote.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CallerReport, readCallerReport } from '../caller/caller-files.ts';
import { REPO_ROOT } from './livekit-server.ts';
import { ManagedProcess } from './managed-process.ts';
import type { LocalStack } from './stack.ts';

export interface CreatedCall {
  callId: string;
  roomName: string;
  region: string;
  state: string;
  callerIdentity: string;
  callerToken: string;
  livekitUrl: string;
}

export interface CreateCallRequest {
  subjectId?: string;
  region?: string;
}

export interface PlacedCall extends CreatedCall {
  subjectId: string;
}

let subjects = 0;

/** POST /v1/calls with consent to transcription; throws with the problem body on any non-201. */
export async function createCall(stack: LocalStack, req: CreateCallRequest = {}): Promise<PlacedCall> {
  const subjectId = req.subjectId ?? `subj-e2e-${process.pid}-${++subjects}`;
  const res = await adminFetch(stack, '/v1/calls', {
    method: 'POST',
    body: JSON.stringify({
      subjectId,
      region: req.region ?? 'eu-central',
      legalBasis: 'consent',
      consents: [{ purpose: 'transcription', granted: true, noticeVersion: 'v1' }],
    }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new CallRefused(res.status, body);
  return { ...(JSON.parse(body) as CreatedCall), subjectId };
}

export class CallRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`POST /v1/calls answered ${status}: ${body}`);
  }
}

/** A control API request with one of the stack's tokens (admin unless told) and a timeout. */
export function adminFetch(
  stack: LocalStack,
  path: string,
  init: RequestInit = {},
  role: 'admin' | 'dpo' = 'admin',
): Promise<Response> {
  const token = role === 'dpo' ? stack.controlApi.dpoToken : stack.controlApi.adminToken;
  return fetch(`${stack.controlApi.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...init.headers,
    },
    signal: init.signal ?? AbortSignal.timeout(15_000),
  });
}

export async function adminJson<T>(
  stack: LocalStack,
  path: string,
  init: RequestInit = {},
  role: 'admin' | 'dpo' = 'admin',
): Promise<T> {
  const res = await adminFetch(stack, path, init, role);
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${body}`);
  return JSON.parse(body) as T;
}

export interface CallerProcessOptions {
  call: CreatedCall;
  wav: string;
  outDir: string;
  /** Extra flags for the caller command (`--hang-up-during-reply 1:800`, `--turn-taking as-recorded`, …). */
  args?: string[];
  onEvent?: (event: Record<string, unknown>) => void;
  timeoutMs?: number;
}

export interface RunningCaller {
  readonly process: ManagedProcess;
  /** Resolves with the caller's report once it has hung up (or the room ended the call). */
  readonly done: Promise<CallerReport>;
}

export function startCallerProcess(stack: LocalStack, opts: CallerProcessOptions): RunningCaller {
  mkdirSync(opts.outDir, { recursive: true });
  const argv = [
    process.execPath,
    '--import',
    'tsx',
    join(REPO_ROOT, 'tools/caller/main.ts'),
    '--url',
    opts.call.livekitUrl,
    '--token',
    opts.call.callerToken,
    '--caller',
    opts.wav,
    '--out',
    opts.outDir,
    ...(opts.args ?? []),
  ];
  const proc = new ManagedProcess({
    name: `caller-${opts.call.roomName}`,
    argv: stack.wrap(argv),
    cwd: REPO_ROOT,
    // rtc-node logs at debug level unless NODE_ENV is production.
    env: { ...process.env, NODE_ENV: 'production' },
    onLine: (line) => {
      if (!opts.onEvent || !line.startsWith('{')) return;
      try {
        const event = JSON.parse(line) as Record<string, unknown>;
        // The caller's events have a type; rtc-node's own log lines do not.
        if (typeof event.type === 'string') opts.onEvent(event);
      } catch {
        // not an event line
      }
    },
  });
  const timeoutMs = opts.timeoutMs ?? 240_000;
  const done = (async () => {
    const timer = setTimeout(() => proc.signal('SIGKILL'), timeoutMs);
    const exit = await proc.exited.finally(() => clearTimeout(timer));
    if (exit.code !== 0) {
      throw new Error(`caller exited with ${exit.code ?? exit.signal}:\n${proc.output().slice(-4000)}`);
    }
    return readCallerReport(opts.outDir);
  })();
  return { process: proc, done };
}
