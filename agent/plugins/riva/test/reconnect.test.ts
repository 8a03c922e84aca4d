import { status } from '@grpc/grpc-js';
import { type APIError, stt } from '@livekit/agents';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type RivaObserver, STT, type STTInit } from '../src/index.ts';
import { codedAudio, FakeRiva, type FakeScript } from './fake-riva.ts';
import { collect, framesOf } from './helpers.ts';

let fake: FakeRiva | undefined;
const open: STT[] = [];

async function server(script: FakeScript): Promise<string> {
  await fake?.stop();
  fake = new FakeRiva(script);
  return fake.start();
}

function recorder() {
  const seen = {
    reconnect: [] as string[],
    dropped: [] as number[],
    errors: [] as string[],
    latency: [] as number[],
  };
  const observer: RivaObserver = {
    reconnect: (r) => seen.reconnect.push(r),
    audioDropped: (ms) => seen.dropped.push(ms),
    streamError: (k) => seen.errors.push(k),
    asrFinalLatency: (s) => seen.latency.push(s),
  };
  return { seen, observer };
}

function makeSTT(url: string, extra: Partial<STTInit> = {}): STT {
  // keepalive off: on a starved CI machine it could insert silence and shift the exact positions asserted here.
  const s = new STT({
    connection: { url },
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    keepaliveIntervalMs: 0,
    ...extra,
  });
  open.push(s);
  return s;
}

/** Pushes audio unpaced; with `pause`, stops after `afterMs` of audio until `until()` holds (the caller keeps talking later). */
async function run(
  s: STT,
  pcm: Int16Array,
  sizes = [320],
  pause?: { afterMs: number; until: () => boolean },
) {
  const errors: unknown[] = [];
  s.on('error', (e) => errors.push(e.error));
  const stream = s.stream();
  const cut = pause ? Math.round((pause.afterMs * 16000) / 1000) : pcm.length;
  for (const f of framesOf(pcm.subarray(0, cut), 16000, sizes)) stream.pushFrame(f);
  if (pause) {
    for (let i = 0; i < 400 && !pause.until(); i++) await new Promise((r) => setTimeout(r, 5));
    for (const f of framesOf(pcm.subarray(cut), 16000, sizes)) stream.pushFrame(f);
  }
  stream.endInput();
  const c = await collect(stream, () => false);
  return { ...c, errors, stream };
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterAll(() => fake?.stop());

const SENTENCE = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];

describe('riva.STT resilience', () => {
  it('replays audio since the last final after the server kills a stream mid-sentence: no word lost', async () => {
    // Utterance 1 is finalized, then the stream dies in the middle of utterance 2 (after "charlie").
    const url = await server({ asrKill: [{ stream: 0, afterMs: 1750 }] });
    const first = codedAudio(['golf', 'hotel'], 16000, { tailMs: 400 });
    const second = codedAudio(SENTENCE, 16000);
    const pcm = new Int16Array(first.length + second.length);
    pcm.set(first);
    pcm.set(second, first.length);
    const { seen, observer } = recorder();
    const c = await run(makeSTT(url, { observer }), pcm);
    expect(fake!.asrStreams.length).toBe(2);
    expect(c.finals).toEqual(['golf hotel', SENTENCE.join(' ')]);
    expect(c.errors).toEqual([]);
    expect(seen.reconnect).toEqual(['unavailable']);
    expect(seen.errors).toEqual(['asr.unavailable']);
    expect(seen.dropped).toEqual([]);
    // The replay started after the first final: the new stream did not get "golf hotel" again.
    // Final 1 covered up to its endpoint: hotel ends at 560 ms + 300 ms of silence = 860 ms.
    const replayedBytes = fake!.asrStreams[1]!.chunkSizes.reduce((a, b) => a + b, 0);
    expect(replayedBytes).toBe((pcm.length - 0.86 * 16000) * 2);
    // Word times of the replayed utterance stay on the original timeline.
    const final2 = c.events.filter((e) => e.type === stt.SpeechEventType.FINAL_TRANSCRIPT)[1]!;
    expect(final2.alternatives![0].words![0]!.startTime).toBeCloseTo(first.length / 16000 + 0.1, 2);
    expect(seen.latency.length).toBe(2);
  });

  it('without replay the same fault would lose words (control: the server really cut mid-sentence)', async () => {
    const url = await server({ asrKill: [{ stream: 0, afterMs: 800 }] });
    const { seen, observer } = recorder();
    const c = await run(makeSTT(url, { observer, replayBufferMs: 0 }), codedAudio(SENTENCE, 16000));
    expect(seen.reconnect).toEqual(['unavailable']);
    expect(c.finals.join(' ')).not.toBe(SENTENCE.join(' '));
    // Cutting the replay window is reported as dropped audio.
    expect(seen.dropped.length).toBe(1);
  });

  it('recovers after UNAVAILABLE on the first streams', async () => {
    const url = await server({ asrFailFirst: 3 });
    const { seen, observer } = recorder();
    const c = await run(makeSTT(url, { observer }), codedAudio(['india', 'juliet'], 16000));
    expect(c.finals).toEqual(['india juliet']);
    expect(fake!.asrStreams.length).toBe(4);
    expect(seen.reconnect).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(c.errors).toEqual([]);
  });

  it('reconnects when the server ends a stream on its own (restart, idle timeout)', async () => {
    const url = await server({ asrServerClose: [{ stream: 0, afterMs: 700 }] });
    const { seen, observer } = recorder();
    const c = await run(makeSTT(url, { observer }), codedAudio(SENTENCE, 16000), [320], {
      afterMs: 1000,
      // Keep talking only once the plugin has reopened the stream the server closed.
      until: () => fake!.asrStreams.length >= 2,
    });
    expect(c.finals).toEqual([SENTENCE.join(' ')]);
    expect(seen.reconnect).toEqual(['server_closed']);
  });

  it('reconnects on DEADLINE_EXCEEDED from the server', async () => {
    const url = await server({ asrKill: [{ stream: 0, afterMs: 600, code: status.DEADLINE_EXCEEDED }] });
    const { seen, observer } = recorder();
    const c = await run(makeSTT(url, { observer }), codedAudio(SENTENCE, 16000));
    expect(c.finals).toEqual([SENTENCE.join(' ')]);
    expect(seen.reconnect).toEqual(['deadline_exceeded']);
  });

  it('fails fast with a clear, non-retryable error on a configuration error (unknown model)', async () => {
    const url = await server({ asrRejectAll: status.INVALID_ARGUMENT });
    const c = await run(makeSTT(url, { model: 'nope' }), codedAudio(['alpha'], 16000));
    expect(c.finals).toEqual([]);
    expect(fake!.asrStreams.length).toBe(1);
    const err = c.errors[0] as APIError;
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('INVALID_ARGUMENT');
    expect(err.message).toContain('Unavailable model requested');
  });

  it('backs off (no hot loop) when the server keeps ending streams at once, and gives up at maxAttempts', async () => {
    const url = await server({ asrEndAtOnce: true });
    const { seen, observer } = recorder();
    const s = makeSTT(url, { observer, reconnect: { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 40 } });
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e.error));
    const t0 = performance.now();
    const stream = s.stream();
    for (const f of framesOf(codedAudio(['alpha'], 16000), 16000, [320])) stream.pushFrame(f);
    await collect(stream, () => false, 5000);
    expect(fake!.asrStreams.length).toBe(5);
    // 20 + 40 + 40 + 40 ms of backoff (±20% jitter, first one capped at 20).
    expect(performance.now() - t0).toBeGreaterThan(100);
    expect(seen.reconnect).toEqual(['server_closed', 'server_closed', 'server_closed', 'server_closed']);
    expect((errors[0] as APIError).message).toContain('gave up after 5 attempts');
  });

  it('reports a final failure promptly even while the caller is still sending audio', async () => {
    const url = await server({ asrRejectAll: status.PERMISSION_DENIED });
    const s = makeSTT(url);
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e.error));
    const stream = s.stream();
    for (const f of framesOf(codedAudio(['alpha'], 16000), 16000, [320])) stream.pushFrame(f);
    // No endInput(): the call is live. The stream must still end with the error, not hang.
    const c = await collect(stream, () => false, 3000);
    expect(c.finals).toEqual([]);
    expect((errors[0] as APIError).message).toContain('PERMISSION_DENIED');
  });

  it('gives up after reconnect.maxAttempts with an error naming the target', async () => {
    const url = await server({ asrFailFirst: 100 });
    const c = await run(
      makeSTT(url, { reconnect: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 } }),
      codedAudio(['alpha'], 16000),
    );
    expect(fake!.asrStreams.length).toBe(3);
    const err = c.errors[0] as APIError;
    expect(err.message).toContain(url);
    expect(err.message).toContain('UNAVAILABLE');
    expect(err.message).toContain('gave up after 3 attempts');
  });

  it('bounds audio held while Riva is down and reports what it drops', async () => {
    // 100 failing attempts at ≥ 10 ms each: all audio arrives while disconnected.
    const url = await server({ asrFailFirst: 30 });
    const { seen, observer } = recorder();
    const s = makeSTT(url, {
      observer,
      maxBufferedAudioMs: 700,
      reconnect: { maxAttempts: 1000, initialDelayMs: 20, maxDelayMs: 20 },
    });
    const c = await run(s, codedAudio(SENTENCE, 16000, { tailMs: 400 }));
    const dropped = seen.dropped.reduce((a, b) => a + b, 0);
    const totalMs = (codedAudio(SENTENCE, 16000, { tailMs: 400 }).length / 16000) * 1000;
    expect(dropped).toBeGreaterThan(0);
    // What was kept is at most the bound (plus the partial tail chunk).
    const resent = fake!.asrStreams.at(-1)!.chunkSizes.reduce((a, b) => a + b, 0) / 32;
    expect(resent).toBeLessThanOrEqual(700);
    expect(dropped + resent).toBeCloseTo(totalMs, 0);
    // The newest audio (the end of "foxtrot") is what was kept and still recognized.
    expect(c.finals).toEqual(['foxtrot']);
  });
});

/** Pushes 20 ms frames at `speed` × real time (the watchdog measures wall time and audio both). */
async function talk(stream: stt.SpeechStream, pcm: Int16Array, speed = 2): Promise<void> {
  const t0 = performance.now();
  const frames = framesOf(pcm, 16000, [320]);
  for (let i = 0; i < frames.length; i++) {
    const wait = t0 + (i * 20) / speed - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    stream.pushFrame(frames[i]!);
  }
}

/** Line noise well below speech level (RMS ~140, about -47 dBFS), deterministic. */
function noise(ms: number): Int16Array {
  const out = new Int16Array((16000 * ms) / 1000);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = ((x >>> 16) % 500) - 250;
  }
  return out;
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe('riva.STT result watchdog (stream open, server silent)', () => {
  const resultTimeoutMs = 300;

  it('reopens a stream that stalls mid-utterance after ~resultTimeoutMs, replays it: no word lost', async () => {
    // The server answers "alpha" and "alpha bravo", then takes audio forever without a word or an end.
    const url = await server({ asrStall: [{ stream: 0, afterResults: 2 }] });
    const { seen, observer } = recorder();
    let reconnectAt = 0;
    const reconnect = (r: string): void => {
      reconnectAt = performance.now();
      seen.reconnect.push(r);
    };
    const s = makeSTT(url, { resultTimeoutMs, observer: { ...observer, reconnect } });
    // No endInput() in this test or the next: the input stays open, as in a live call, so the stall is
    // found by the unanswered audio, not by the half-close.
    const stream = s.stream();
    const pcm = codedAudio(SENTENCE, 16000);
    const talking = talk(stream, pcm);
    // When the server's last answer ("alpha bravo") reached the client: owed time starts after it.
    let lastAnswerAt = 0;
    const c = await collect(stream, (x) => {
      if (!lastAnswerAt && x.types.filter((t) => t === 'INTERIM_TRANSCRIPT').length === 2) {
        lastAnswerAt = performance.now();
      }
      return x.finals.length === 1;
    });
    await talking;
    expect(c.finals).toEqual([SENTENCE.join(' ')]);
    expect(seen.reconnect).toEqual(['stalled']);
    expect(seen.errors).toEqual(['asr.stalled']);
    expect(seen.dropped).toEqual([]);
    const [stalled, next] = fake!.asrStreams;
    expect(stalled!.stalledAt).toBeDefined();
    expect(stalled!.cancelled).toBe(true);
    // No final had come, so the new stream got all the audio from the very first sample.
    const sent = next!.chunkSizes.reduce((a, b) => a + b, 0);
    expect(sent).toBe(Math.floor(pcm.length / 1600) * 3200);
    expect(fake!.asrStreams.length).toBe(2);
    // Reopened ~resultTimeoutMs after the first speech chunk sent after the last answer: never sooner
    // (30 ms of slack for reading the event), not much later, and after the server went silent.
    expect(reconnectAt - lastAnswerAt).toBeGreaterThan(resultTimeoutMs - 30);
    expect(reconnectAt - lastAnswerAt).toBeLessThan(resultTimeoutMs + 1500);
    expect(reconnectAt).toBeGreaterThan(stalled!.stalledAt!);
  });

  it('reopens when the final of an utterance never comes (its interims all arrived)', async () => {
    // The first final goes through; the second is swallowed and the server goes silent for good.
    const url = await server({ asrStall: [{ stream: 0, afterResults: 1, finals: true }] });
    const { seen, observer } = recorder();
    const stream = makeSTT(url, { resultTimeoutMs, observer }).stream();
    const audio = concat(codedAudio(['golf', 'hotel'], 16000), codedAudio(SENTENCE, 16000, { tailMs: 1200 }));
    const talking = talk(stream, audio);
    const c = await collect(stream, (x) => x.finals.length === 2);
    await talking;
    expect(c.finals).toEqual(['golf hotel', SENTENCE.join(' ')]);
    expect(seen.reconnect).toEqual(['stalled']);
    // The new stream got everything after the first final (hotel ends at 560 ms + 300 ms of silence), the
    // second utterance whole, and nothing before it. (No endInput: the last partial chunk stays unsent.)
    const sent = fake!.asrStreams[1]!.chunkSizes.reduce((a, b) => a + b, 0);
    expect(sent).toBe((Math.floor(audio.length / 1600) * 1600 - 0.86 * 16000) * 2);
  });

  it('a stream that gets only silence and line noise for 3 × resultTimeoutMs is not reopened', async () => {
    // A server that never answers at all: silence is not owed a result, so nothing is wrong yet.
    const url = await server({ asrStall: [{ stream: 0, afterResults: 0 }] });
    const { seen, observer } = recorder();
    // Keepalive on: idle gaps are filled with digital silence as in production (not faster than 150 ms,
    // so none lands inside the paced word below).
    const stream = makeSTT(url, { resultTimeoutMs, observer, keepaliveIntervalMs: 150 }).stream();
    await talk(stream, noise(1000));
    await new Promise((r) => setTimeout(r, 600));
    expect(fake!.asrStreams.length).toBe(1);
    expect(fake!.asrStreams[0]!.chunkSizes.length).toBeGreaterThanOrEqual(10);
    expect(seen.reconnect).toEqual([]);
    // The boundary: one word is owed an answer, and is recognized on the reopened stream.
    const talking = talk(stream, codedAudio(['kilo'], 16000, { tailMs: 600 }));
    const c = await collect(stream, (x) => x.finals.length === 1);
    await talking;
    expect(seen.reconnect).toEqual(['stalled']);
    expect(c.finals).toEqual(['kilo']);
  });

  it('control: with resultTimeoutMs 0 the stalled utterance never arrives', async () => {
    const url = await server({ asrStall: [{ stream: 0, afterResults: 2 }] });
    const stream = makeSTT(url, { resultTimeoutMs: 0 }).stream();
    const talking = talk(stream, codedAudio(SENTENCE, 16000), 4);
    await expect(collect(stream, (x) => x.finals.length === 1, 1500)).rejects.toThrow('timeout');
    await talking;
    expect(fake!.asrStreams.length).toBe(1);
  });

  it('after the half-close the server owes the end of the stream: a silent one is reopened too', async () => {
    const url = await server({ asrStall: [{ stream: 0, afterResults: 1 }] });
    const { seen, observer } = recorder();
    // Unpaced: all audio is sent and the call half-closed at once, so no audio follows the server's
    // answer ("alpha"); what the silent stream owes is its end.
    const c = await run(makeSTT(url, { resultTimeoutMs, observer }), codedAudio(SENTENCE, 16000));
    expect(c.finals).toEqual([SENTENCE.join(' ')]);
    expect(seen.reconnect).toEqual(['stalled']);
    expect(c.errors).toEqual([]);
  });

  it('a server that stalls every stream before any result is not "healthy": maxAttempts applies', async () => {
    const url = await server({
      asrStall: [0, 1, 2].map((stream) => ({ stream, afterResults: 0 })),
    });
    const c = await run(
      makeSTT(url, { resultTimeoutMs, reconnect: { maxAttempts: 1, initialDelayMs: 10, maxDelayMs: 20 } }),
      codedAudio(['alpha'], 16000),
    );
    expect(fake!.asrStreams.length).toBe(2);
    const err = c.errors[0] as APIError;
    expect(err.message).toContain(`DEADLINE_EXCEEDED (stream stalled: no result for ${resultTimeoutMs} ms)`);
    expect(err.message).toContain('gave up after 2 attempts');
  });
});
