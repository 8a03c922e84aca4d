/**
 * Cancel storm → threads and memory stay bounded by SPEECH_SERVER_MAX_STREAMS.
 *
 * 40 batches of 8 streams, each sending its config and 3 s of speech at once and cancelled 20–290 ms
 * later (the reproduction), against a server in its own process with MAX_STREAMS=8. A stream's
 * slot covers its decoder (loading included), so at most 8 decoders exist; cancelled streams beyond the
 * limit get RESOURCE_EXHAUSTED. Figures: peak and final threads and RSS, against the idle server's.
 * Targets: threads and RSS bounded by MAX_STREAMS decoders during the storm, and back to the idle
 * figures (threads equal, RSS within 1.35x: JS garbage and heap fragments) once the spare decoders idle out.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clients, connect, PCM16K, readWavData, streamRecognize } from '../helpers.ts';
import { type ProcStats, type ServerChild, spawnSpeechServer } from './child.ts';

const SAMPLE_WAV = new URL('../../../agent/assets/sample-caller.wav', import.meta.url).pathname;
const MAX_STREAMS = 8;
const WARM = 2;
const BATCHES = 40;
const PER_BATCH = 8;
/** A Node worker thread shows as two OS threads (its JS thread and its libuv/V8 helper). */
const THREADS_PER_DECODER = 2;
/** What one more loaded decoder may add to RSS (measured ~92 MB idle, ~100 MB after decoding). */
const DECODER_BUDGET_MB = 130;
const STEADY_MS = 3000;

let server: ServerChild;
let clients: Clients;

beforeAll(async () => {
  server = await spawnSpeechServer({
    SPEECH_SERVER_MAX_STREAMS: String(MAX_STREAMS),
    SPEECH_SERVER_WARM_DECODERS: String(WARM),
  });
  clients = connect(server.address);
});

afterAll(async () => {
  clients?.close();
  await server?.kill();
});

/** Opens one stream, sends config + audio at once, cancels after `cancelMs`; resolves with its status. */
function cancelledStream(audio: Buffer, cancelMs: number): Promise<grpc.status> {
  return new Promise((resolve) => {
    const call = clients.asr.StreamingRecognize();
    let done = false;
    const settle = (code: grpc.status) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(code);
    };
    call.on('data', () => {});
    call.on('error', (e: grpc.ServiceError) => settle(e.code));
    call.on('end', () => settle(grpc.status.OK));
    call.write({ streaming_config: { config: PCM16K, interim_results: true } });
    for (let off = 0; off < audio.length; off += 3200)
      call.write({ audio_content: audio.subarray(off, off + 3200) });
    const timer = setTimeout(() => call.cancel(), cancelMs);
  });
}

/** A normal stream, retried while the server is still freeing decoders (bounded: 200 tries, 20 s). */
async function probe(audio: Buffer): Promise<{ transcript: string; waitMs: number; tries: number }> {
  const t0 = performance.now();
  for (let tries = 1; tries <= 200 && performance.now() - t0 < 20_000; tries++) {
    const r = await streamRecognize(clients, audio, { config: PCM16K, interim: false });
    if (!r.error) return { transcript: r.transcript, waitMs: Math.round(performance.now() - t0), tries };
    if (r.error.code !== grpc.status.RESOURCE_EXHAUSTED) throw r.error;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('no slot came free within 20 s after the storm');
}

/**
 * Reads threads and RSS until the thread count has not changed for STEADY_MS (longer than the pool's
 * 1.5 s burst idle-out plus its 0.5 s check) or `ms` has passed; returns the last reading. A
 * measurement, not a synchronisation: nothing waits on it but the figure.
 */
async function steadyStats(ms: number): Promise<ProcStats> {
  const t0 = performance.now();
  let s = server.stats();
  let since = performance.now();
  while (performance.now() - t0 < ms && performance.now() - since < STEADY_MS) {
    await new Promise((res) => setTimeout(res, 100));
    const next = server.stats();
    if (next.threads !== s.threads) since = performance.now();
    s = next;
  }
  return s;
}

describe('cancel storm', () => {
  it(`keeps threads and RSS bounded through ${BATCHES}x${PER_BATCH} cancelled streams`, async () => {
    const speech = readWavData(SAMPLE_WAV);
    const audio = speech.subarray(0, 3 * 32000);
    // Warm up: the first stream loads the warm decoders; idle is measured after it.
    expect((await probe(audio.subarray(0, 32000))).tries).toBe(1);
    const idle = await steadyStats(10_000);

    const peak = { ...idle };
    const sampler = setInterval(() => {
      const s = server.stats();
      peak.threads = Math.max(peak.threads, s.threads);
      peak.rssMb = Math.max(peak.rssMb, s.rssMb);
    }, 50);
    const codes = new Map<string, number>();
    const t0 = performance.now();
    try {
      for (let b = 0; b < BATCHES; b++) {
        const batch = Array.from({ length: PER_BATCH }, (_, i) =>
          cancelledStream(audio, 20 + (((b * PER_BATCH + i) * 37) % 271)),
        );
        for (const code of await Promise.all(batch)) {
          const name = grpc.status[code] ?? String(code);
          codes.set(name, (codes.get(name) ?? 0) + 1);
        }
      }
    } finally {
      clearInterval(sampler);
    }
    const stormMs = Math.round(performance.now() - t0);
    // Right after the last cancel: decoders may still be acknowledging their aborts.
    const after = server.stats();
    const p = await probe(audio);
    // Spare decoders no load needs are freed ~1.5 s after they went idle.
    const settled = await steadyStats(15_000);
    const summary = {
      test: 'speech-server-cancel-storm',
      streams: BATCHES * PER_BATCH,
      maxStreams: MAX_STREAMS,
      stormMs,
      statuses: Object.fromEntries(codes),
      idle,
      peak,
      afterStorm: after,
      probeWaitMs: p.waitMs,
      afterIdleOut: settled,
      peakRssVsIdle: Number((peak.rssMb / idle.rssMb).toFixed(2)),
      afterRssVsIdle: Number((after.rssMb / idle.rssMb).toFixed(2)),
      settledRssVsIdle: Number((settled.rssMb / idle.rssMb).toFixed(2)),
    };
    console.log(JSON.stringify(summary));
    expect(p.transcript.length).toBeGreaterThan(0);
    // A decoder is a worker thread (two OS threads); the idle server already has WARM+1 of them and
    // there are never more than MAX_STREAMS.
    expect(peak.threads).toBeLessThanOrEqual(idle.threads + THREADS_PER_DECODER * (MAX_STREAMS - WARM));
    // Memory is bounded by the stream limit: at most MAX_STREAMS decoders, whatever the storm.
    expect(peak.rssMb).toBeLessThanOrEqual(idle.rssMb + DECODER_BUDGET_MB * (MAX_STREAMS - WARM));
    // Once the storm is over the spare decoders are freed and their memory returned to the kernel.
    expect(settled.threads).toBe(idle.threads);
    expect(settled.rssMb).toBeLessThanOrEqual(idle.rssMb * 1.35);
  });
});
