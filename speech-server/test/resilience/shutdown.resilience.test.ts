/**
 * SIGTERM while decoders are busy → the process is gone within the grace period; a second SIGTERM ends
 * it at once.
 *
 * The reproduction: after a cancel storm, SIGTERM logged "stopped" but the process stayed (a
 * decoder thread at 100 % CPU inside PocketSphinx's init) and a second SIGTERM was ignored. Here a
 * server in its own process (MAX_STREAMS=8, no warm decoders, GRACE_SECONDS=3) gets 8 streams at once,
 * so 8 decoders are loading, and one stream that would run for 20 s; SIGTERM follows at once. Then a
 * second server gets two SIGTERMs in a row while a long stream is open.
 * Figures: time from SIGTERM to exit, exit code. Targets: exit within the grace period; the second
 * signal exits in < 1 s.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { type Clients, connect, PCM16K } from '../helpers.ts';
import { type ServerChild, spawnSpeechServer, untilRefused } from './child.ts';

const GRACE_SECONDS = 3;
const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** A stream sending 100 ms of audio every 100 ms for `seconds`; resolves with its final status. */
function longStream(clients: Clients, seconds: number): { status: Promise<grpc.status>; stop(): void } {
  const call = clients.asr.StreamingRecognize();
  const status = new Promise<grpc.status>((resolve) => {
    call.on('data', () => {});
    call.on('error', (e: grpc.ServiceError) => resolve(e.code));
    call.on('end', () => resolve(grpc.status.OK));
  });
  call.write({ streaming_config: { config: PCM16K, interim_results: true } });
  let sent = 0;
  const timer = setInterval(() => {
    if (sent++ >= seconds * 10) {
      clearInterval(timer);
      call.end();
      return;
    }
    call.write({ audio_content: Buffer.alloc(3200) });
  }, 100);
  void status.finally(() => clearInterval(timer));
  return { status, stop: () => clearInterval(timer) };
}

async function start(maxStreams: number): Promise<{ server: ServerChild; clients: Clients }> {
  const server = await spawnSpeechServer({
    SPEECH_SERVER_MAX_STREAMS: String(maxStreams),
    SPEECH_SERVER_WARM_DECODERS: '0',
    SPEECH_SERVER_GRACE_SECONDS: String(GRACE_SECONDS),
  });
  const clients = connect(server.address);
  cleanup.push(() => server.kill());
  cleanup.push(() => clients.close());
  return { server, clients };
}

describe('shutdown', () => {
  it(`exits within the ${GRACE_SECONDS} s grace period while decoders are loading`, async () => {
    const { server, clients } = await start(8);
    const long = longStream(clients, 20);
    cleanup.push(() => long.stop());
    // 7 more streams: each leases a decoder that starts loading at once (no warm ones).
    const burst = Array.from({ length: 7 }, () => longStream(clients, 20));
    for (const b of burst) cleanup.push(() => b.stop());
    // Once a ninth stream is refused, all 8 have reached the server and leased their decoders.
    await untilRefused(clients);
    const t0 = performance.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const exitMs = Math.round(performance.now() - t0);
    const statuses = await Promise.all([long.status, ...burst.map((b) => b.status)]);
    const summary = {
      test: 'speech-server-shutdown',
      graceSeconds: GRACE_SECONDS,
      decodersLoading: 8,
      exitAfterSigtermMs: exitMs,
      exitCode: exit.code,
      streamStatuses: statuses.map((c) => grpc.status[c]),
      logged: server.lines.map((l) => l.msg).filter((m) => m !== 'speech server listening'),
    };
    console.log(JSON.stringify(summary));
    expect(exitMs).toBeLessThanOrEqual(GRACE_SECONDS * 1000);
    expect(exit.code).toBe(0);
    expect(summary.logged).toContain('speech server stopped');
  });

  it('exits at once on a second SIGTERM', async () => {
    const { server, clients } = await start(1);
    const long = longStream(clients, 20);
    cleanup.push(() => long.stop());
    await untilRefused(clients);
    server.child.kill('SIGTERM');
    await server.waitForLog('draining', 5000);
    const t0 = performance.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const exitMs = Math.round(performance.now() - t0);
    console.log(
      JSON.stringify({
        test: 'speech-server-second-sigterm',
        exitAfterSecondSignalMs: exitMs,
        exitCode: exit.code,
      }),
    );
    expect(exitMs).toBeLessThan(1000);
    expect(exit.code).toBe(1);
  });
});
