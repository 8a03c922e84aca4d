/**
 * What the end-to-end tests share: whether a real stack can run here, a fresh PostgreSQL database per
 * stack, offline recognition of what the caller heard (through the stack's own speech server), Prometheus
 * text parsing and waiting for the control API to reach a state.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { loadRivaProtos } from '../../proto/src/index.ts';
import { adminJson } from '../local-stack/calls.ts';
import { findLiveKitServer } from '../local-stack/livekit-server.ts';
import { waitUntil } from '../local-stack/managed-process.ts';
import { netnsUnavailableReason } from '../local-stack/netns.ts';
import type { LocalStack } from '../local-stack/stack.ts';

/** For a failed test: the last output of every process on the console, all of it in a file. */
export function printStackLogs(stack: LocalStack | undefined, testName: string): void {
  if (!stack) return;
  const file = join(tmpdir(), `rca-e2e-${process.pid}-${Date.now()}.log`);
  writeFileSync(file, stack.logs(400_000));
  console.error(`${stack.logs(6000)}\n(full logs of "${testName}" in ${file})`);
}

/** Why the real stack cannot run on this machine, or undefined when it can. */
export async function stackUnavailableReason(): Promise<string | undefined> {
  if (!findLiveKitServer()) return 'no livekit-server (run scripts/bootstrap.sh)';
  return netnsUnavailableReason();
}

/** A new empty database on the test run's PostgreSQL (TEST_DATABASE_URL), dropped by the returned function. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl)
    throw new Error('TEST_DATABASE_URL is not set: run through vitest (test-support/global-setup.ts)');
  const name = `e2e_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client(adminUrl);
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Offline recognition of 16 kHz PCM through the stack's speech server (Riva's `Recognize`). */
export async function recognize(address: string, pcm: Int16Array, sampleRate = 16_000): Promise<string> {
  const protos = loadRivaProtos();
  const client = new protos.asr.RivaSpeechRecognition(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      client.Recognize(
        {
          config: {
            encoding: 'LINEAR_PCM',
            sample_rate_hertz: sampleRate,
            language_code: 'en-US',
            max_alternatives: 1,
          },
          audio: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength),
        },
        { deadline: Date.now() + 60_000 },
        (err, res) => {
          if (err) reject(err);
          else
            resolve(
              (res?.results ?? [])
                .map((r) => r.alternatives?.[0]?.transcript ?? '')
                .join(' ')
                .trim(),
            );
        },
      );
    });
  } finally {
    client.close();
  }
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Share of the reference's words found, in order, in the hypothesis (a recall on the longest common subsequence). */
export function wordRecall(reference: string, hypothesis: string): number {
  const ref = words(reference);
  const hyp = words(hypothesis);
  if (ref.length === 0) return 1;
  const prev = new Array<number>(hyp.length + 1).fill(0);
  for (const r of ref) {
    let diag = 0;
    for (let j = 1; j <= hyp.length; j += 1) {
      const up = prev[j] ?? 0;
      prev[j] = r === hyp[j - 1] ? diag + 1 : Math.max(up, prev[j - 1] ?? 0);
      diag = up;
    }
  }
  return (prev[hyp.length] ?? 0) / ref.length;
}

/** Sum of a Prometheus counter's samples whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
    const has = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (has) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

export interface CallRecord {
  id: string;
  state: string;
  agentState: string;
  startedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  participants?: Array<{ identity: string; kind: string; state: string; tracksPublished: number }>;
  transitions?: Array<{ from: string; to: string; cause: string }>;
  transcript?: Array<{ id: string; speaker: string; text: string; startMs: number; endMs: number }>;
}

export function getCall(stack: LocalStack, callId: string): Promise<CallRecord> {
  return adminJson<CallRecord>(stack, `/v1/calls/${callId}`);
}

/** Polls the call record until `check` holds (the webhooks are applied asynchronously). */
export async function waitForCall(
  stack: LocalStack,
  callId: string,
  what: string,
  check: (call: CallRecord) => boolean,
  timeoutMs = 30_000,
): Promise<CallRecord> {
  let last: CallRecord | undefined;
  await waitUntil(
    `call ${what}`,
    async () => {
      last = await getCall(stack, callId);
      return check(last);
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last record: ${JSON.stringify(last)}`);
  });
  return last as CallRecord;
}
