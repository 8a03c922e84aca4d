/**
 * Idle streams and frozen clients → their slots come back; nobody is locked out for ever.
 *
 * The reproduction: streams that send only a config (or a client frozen with SIGSTOP) held every
 * ASR and TTS slot for ever. Two servers in their own processes:
 * 1. MAX_STREAMS=8, SPEECH_SERVER_IDLE_TIMEOUT_MS=2000: 4 ASR streams that send only a config, 2 that
 *    send nothing and 2 SynthesizeOnline streams that send no request take every slot. A new stream is
 *    refused, then retried until it is served (bounded: 100 tries, 15 s).
 * 2. MAX_STREAMS=4, idle timeout 60 s, server keepalive ping every 1 s with a 1 s timeout: a client
 *    process opens 4 config-only streams and is frozen with SIGSTOP. Only the keepalive can free them.
 * Figures: a new stream's wait in each case. Targets: (1) within the idle timeout (+1 s), with
 * DEADLINE_EXCEEDED on the idle streams; (2) within keepalive + timeout (+2 s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { type Clients, connect, PCM16K, streamRecognize } from '../helpers.ts';
import { type ServerChild, spawnSpeechServer } from './child.ts';

const IDLE_MS = 2000;
const KEEPALIVE_MS = 1000;
const KEEPALIVE_TIMEOUT_MS = 1000;
const pcm = Buffer.alloc(3200);

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/**
 * Retries a short stream until it is served; bounded by 100 tries and `ms`. The wait is until the
 * start of the attempt that was served (its own decoding time is not part of it).
 */
async function waitForSlot(
  clients: Clients,
  ms: number,
): Promise<{ waitMs: number; servedAt: number; refused: number }> {
  const t0 = performance.now();
  let refused = 0;
  for (let i = 0; i < 100 && performance.now() - t0 < ms; i++) {
    const attempt = performance.now();
    const r = await streamRecognize(clients, pcm, { config: PCM16K, interim: false });
    if (!r.error) return { waitMs: Math.round(attempt - t0), servedAt: attempt, refused };
    if (r.error.code !== grpc.status.RESOURCE_EXHAUSTED) throw r.error;
    refused++;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no slot came free within ${ms} ms`);
}

function statusOf(call: {
  on(event: 'data', fn: () => void): unknown;
  on(event: 'error', fn: (e: grpc.ServiceError) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
}): Promise<grpc.status> {
  return new Promise((resolve) => {
    call.on('data', () => {});
    call.on('error', (e: grpc.ServiceError) => resolve(e.code));
    call.on('end', () => resolve(grpc.status.OK));
  });
}

describe('idle streams', () => {
  it('ends streams idle for SPEECH_SERVER_IDLE_TIMEOUT_MS and serves the next caller', async () => {
    const server: ServerChild = await spawnSpeechServer({
      SPEECH_SERVER_MAX_STREAMS: '8',
      SPEECH_SERVER_WARM_DECODERS: '2',
      SPEECH_SERVER_IDLE_TIMEOUT_MS: String(IDLE_MS),
    });
    cleanup.push(() => server.kill());
    const clients = connect(server.address);
    cleanup.push(() => clients.close());
    const idle: Array<Promise<grpc.status>> = [];
    // grpc-js sends a call's headers when it is created: the server sees these with no request.
    for (let i = 0; i < 2; i++) idle.push(statusOf(clients.tts.SynthesizeOnline()));
    const opened = performance.now();
    for (let i = 0; i < 6; i++) {
      const call = clients.asr.StreamingRecognize();
      idle.push(statusOf(call));
      if (i < 4) call.write({ streaming_config: { config: PCM16K, interim_results: true } });
    }
    // The two clients are separate channels: a probe may overtake the last idle stream, so a new
    // stream is first seen refused (every slot held), then retried until served.
    const next = await waitForSlot(clients, 15_000);
    const statuses = (await Promise.all(idle)).map((c) => grpc.status[c]);
    const waitSinceOpened = Math.round(next.servedAt - opened);
    const summary = {
      test: 'speech-server-idle-streams',
      idleTimeoutMs: IDLE_MS,
      idleStreams: idle.length,
      newStreamWaitMs: waitSinceOpened,
      refusedBeforeServed: next.refused,
      idleStatuses: statuses,
    };
    console.log(JSON.stringify(summary));
    expect(next.refused).toBeGreaterThan(0);
    expect(waitSinceOpened).toBeLessThanOrEqual(IDLE_MS + 1000);
    expect(statuses).toEqual(Array(8).fill('DEADLINE_EXCEEDED'));
  });

  it('drops a frozen client through server keepalive pings', async () => {
    const server: ServerChild = await spawnSpeechServer({
      SPEECH_SERVER_MAX_STREAMS: '4',
      SPEECH_SERVER_WARM_DECODERS: '1',
      SPEECH_SERVER_IDLE_TIMEOUT_MS: '60000',
      SPEECH_SERVER_KEEPALIVE_MS: String(KEEPALIVE_MS),
      SPEECH_SERVER_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_TIMEOUT_MS),
    });
    cleanup.push(() => server.kill());
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./idle-client.ts', import.meta.url).pathname, server.address, '4'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const childExited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanup.push(async () => {
      child.kill('SIGKILL');
      await childExited;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('idle client not ready in 30 s')), 30_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const clients = connect(server.address);
    cleanup.push(() => clients.close());
    child.kill('SIGSTOP');
    const next = await waitForSlot(clients, 15_000);
    const summary = {
      test: 'speech-server-frozen-client',
      keepaliveMs: KEEPALIVE_MS,
      keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
      frozenStreams: 4,
      newStreamWaitMs: next.waitMs,
      refusedBeforeServed: next.refused,
    };
    console.log(JSON.stringify(summary));
    expect(next.refused).toBeGreaterThan(0);
    expect(next.waitMs).toBeLessThanOrEqual(KEEPALIVE_MS + KEEPALIVE_TIMEOUT_MS + 2000);
  });
});
