/**
 * Large SSML requests → other calls are not held up, and work is bounded by the request's size.
 *
 * The reproduction: one Synthesize with `"<speak" + "<" x 160,000` blocked every other call (the
 * health check answered after 10.5 s) because tag stripping backtracked quadratically on the event loop.
 * Here the same request, and a 160k-character one made of unclosed tags, are sent to a server in its own
 * process while a health check runs back to back on another channel (bounded: at most 2,000 checks, and
 * only while a request is open). Figures: the slowest health answer during each request, and each
 * request's own time. Targets: health answered in < 100 ms; a unary reply's work stops at the 4 MB
 * message limit (Riva's offline TTS limit) instead of synthesising what cannot be sent.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRivaProtos } from '../../../proto/src/index.ts';
import { type Clients, connect } from '../helpers.ts';
import { type ServerChild, spawnSpeechServer } from './child.ts';

const CHARS = 160_000;
const MAX_CHECKS = 2000;

let server: ServerChild;
let clients: Clients;
let health: InstanceType<ReturnType<typeof loadRivaProtos>['health']['Health']>;

beforeAll(async () => {
  server = await spawnSpeechServer({ SPEECH_SERVER_MAX_STREAMS: '4', SPEECH_SERVER_WARM_DECODERS: '0' });
  clients = connect(server.address);
  // Its own channel, so a slow Synthesize response cannot queue in front of it on the client side.
  health = new (loadRivaProtos().health.Health)(server.address, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
});

afterAll(async () => {
  clients?.close();
  health?.close();
  await server?.kill();
});

function check(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    health.Check({ service: '' }, (err) => (err ? reject(err) : resolve(performance.now() - t0))),
  );
}

async function duringSynthesize(text: string) {
  await check();
  let open = true;
  const t0 = performance.now();
  const request = new Promise<{ ms: number; code: grpc.status; bytes: number }>((resolve) =>
    clients.tts.Synthesize({ text, language_code: 'en-US', sample_rate_hz: 16000 }, (err, res) => {
      open = false;
      resolve({
        ms: performance.now() - t0,
        code: err?.code ?? grpc.status.OK,
        bytes: res?.audio?.length ?? 0,
      });
    }),
  );
  const latencies: number[] = [];
  while (open && latencies.length < MAX_CHECKS) latencies.push(await check());
  const r = await request;
  return {
    requestMs: Math.round(r.ms),
    status: grpc.status[r.code],
    audioBytes: r.bytes,
    checks: latencies.length,
    maxHealthMs: Number(Math.max(...latencies).toFixed(1)),
    p99HealthMs: Number(
      [...latencies].sort((x, y) => x - y)[Math.floor(latencies.length * 0.99)]!.toFixed(1),
    ),
  };
}

describe('SSML flood', () => {
  it(`answers health checks within 100 ms during ${CHARS / 1000}k-character SSML requests`, async () => {
    const flood = await duringSynthesize(`<speak${'<'.repeat(CHARS)}`);
    const unclosed = await duringSynthesize(`<speak>${'<a '.repeat(CHARS / 3)}`);
    console.log(JSON.stringify({ test: 'speech-server-ssml-flood', chars: CHARS, flood, unclosed }));
    for (const r of [flood, unclosed]) {
      expect(r.checks).toBeGreaterThan(0);
      expect(r.maxHealthMs).toBeLessThan(100);
    }
    // The flood is one speakable sentence ("<speak<<<…").
    expect(flood.status).toBe('OK');
    expect(flood.requestMs).toBeLessThan(5000);
    // Unclosed tags are text: 53k words, far more audio than one 4 MB response can carry. Synthesis
    // stops as soon as the reply would not fit, instead of running flite for minutes for nothing.
    expect(unclosed.status).toBe('RESOURCE_EXHAUSTED');
    expect(unclosed.requestMs).toBeLessThan(30_000);
  });
});
