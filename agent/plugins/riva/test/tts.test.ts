import { APITimeoutError, type metrics, tts } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type RivaObserver, TTS, type TTSInit } from '../src/index.ts';
import { FakeRiva, type FakeScript, ttsPcm } from './fake-riva.ts';
import './helpers.ts';

let fake: FakeRiva | undefined;
const open: TTS[] = [];

async function server(script: FakeScript): Promise<string> {
  await fake?.stop();
  fake = new FakeRiva(script);
  return fake.start();
}

function makeTTS(url: string, extra: Partial<TTSInit> = {}): TTS {
  const t = new TTS({ connection: { url }, ...extra });
  open.push(t);
  return t;
}

/** All PCM of a stream's frames, and the frames. */
async function drain(
  stream: AsyncIterable<tts.SynthesizedAudio | typeof tts.SynthesizeStream.END_OF_STREAM>,
) {
  const frames: { frame: AudioFrame; final: boolean; segmentId: string }[] = [];
  for await (const ev of stream) {
    if (ev === tts.SynthesizeStream.END_OF_STREAM) break;
    frames.push({ frame: ev.frame, final: ev.final, segmentId: ev.segmentId });
  }
  const bytes = Buffer.concat(
    frames.map((f) =>
      Buffer.from(f.frame.data.buffer, f.frame.data.byteOffset, f.frame.samplesPerChannel * 2),
    ),
  );
  return { frames, bytes };
}

afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});
afterAll(() => fake?.stop());

describe('riva.TTS', () => {
  // Message orders: audio before the client's half-close reaches the server, or only after it.
  const orders: [string, FakeScript, boolean][] = [
    ['a bidi server that replies at once', {}, false],
    ['a bidi server that waits for the half-close', { ttsReplyAfterHalfClose: true }, true],
    ['a pre-2026 server-streaming server', { ttsServerStreaming: true }, true],
  ];
  for (const [name, script, closedFirst] of orders) {
    it(`sends exactly one request then half-closes, and works with ${name}`, async () => {
      const url = await server(script);
      const t = makeTTS(url);
      const frame = await t.synthesize('Hello there.').collect();
      expect(fake!.ttsCalls.length).toBe(1);
      const call = fake!.ttsCalls[0]!;
      expect(call.requestsOnCall).toBe(1);
      expect(call.halfClosed).toBe(true);
      expect(call.halfClosedBeforeReply).toBe(closedFirst);
      expect(call.request).toMatchObject({
        text: 'Hello there.',
        language_code: 'en-US',
        encoding: 'LINEAR_PCM',
        sample_rate_hz: 16000,
        voice_name: 'English-US.Female-1',
      });
      // 12 chars × 10 ms at 16 kHz, byte-exact with what the server sent.
      expect(frame.samplesPerChannel).toBe(1920);
      expect(Buffer.from(frame.data.buffer, frame.data.byteOffset, 3840).equals(ttsPcm(1920))).toBe(true);
    });
  }

  it('ChunkedStream emits 20 ms frames, the last one final, and reports TTFB', async () => {
    const url = await server({ ttsChunkMs: 33 });
    const seen: number[] = [];
    const t = makeTTS(url, { observer: { ttsFirstAudio: (s) => seen.push(s) } });
    const m: metrics.TTSMetrics[] = [];
    t.on('metrics_collected', (x) => m.push(x));
    const { frames, bytes } = await drain(t.synthesize('Twenty five characters...'));
    expect(bytes.equals(ttsPcm(25 * 160))).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.frame.samplesPerChannel === 320 && !f.final)).toBe(true);
    expect(frames.at(-1)!.final).toBe(true);
    expect(seen.length).toBe(1);
    expect(seen[0]).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(m[0]?.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(m[0]?.audioDurationMs).toBe(250);
  });

  it('SynthesizeStream sends one SynthesizeOnline per sentence, in order, with one final per segment', async () => {
    const url = await server({ ttsChunkDelayMs: 2 });
    const t = makeTTS(url);
    const m: metrics.TTSMetrics[] = [];
    t.on('metrics_collected', (x) => m.push(x));
    const s = t.stream();
    const text = 'This is the first sentence. And here is the second one! Is this the third sentence?';
    for (const word of text.split(/(?<= )/)) s.pushText(word);
    s.flush();
    s.pushText('A new segment starts right here.');
    s.endInput();
    const { frames, bytes } = await drain(s);
    const texts = fake!.ttsCalls.map((c) => c.request.text);
    expect(texts).toEqual([
      'This is the first sentence.',
      'And here is the second one!',
      'Is this the third sentence?',
      'A new segment starts right here.',
    ]);
    expect(fake!.ttsCalls.every((c) => c.requestsOnCall === 1)).toBe(true);
    // Audio is concatenated strictly in sentence order even though requests overlap (prefetch).
    const expected = Buffer.concat(texts.map((x) => ttsPcm(x!.length * 160)));
    expect(bytes.equals(expected)).toBe(true);
    const finals = frames.filter((f) => f.final);
    expect(finals.length).toBe(2);
    expect(new Set(frames.map((f) => f.segmentId)).size).toBe(2);
    expect(m.length).toBe(2);
    expect(m.every((x) => x.ttfbMs >= 0)).toBe(true);
  });

  it('passes SSML through whole and sends the pronunciation dictionary', async () => {
    const url = await server({});
    const t = makeTTS(url, { customDictionary: { NVIDIA: 'EH1 N V IH1 D IY0 AH0', Riva: 'R IY1 V AH0' } });
    const s = t.stream();
    const ssml = '<speak>Hello. <break time="200ms"/> This is <sub alias="Riva">RIVA</sub>. Bye now.</speak>';
    for (const piece of ssml.match(/.{1,7}/g)!) s.pushText(piece);
    s.endInput();
    await drain(s);
    expect(fake!.ttsCalls.map((c) => c.request.text)).toEqual([ssml]);
    expect(fake!.ttsCalls[0]!.request.custom_dictionary).toBe(
      'NVIDIA  EH1 N V IH1 D IY0 AH0,Riva  R IY1 V AH0',
    );
  });

  it('produces 8 kHz audio for SIP', async () => {
    const url = await server({});
    const t = makeTTS(url, { sampleRate: 8000 });
    expect(t.sampleRate).toBe(8000);
    const { frames } = await drain(t.synthesize('Eight kilohertz.'));
    expect(fake!.ttsCalls[0]!.request.sample_rate_hz).toBe(8000);
    expect(frames.every((f) => f.frame.sampleRate === 8000)).toBe(true);
    expect(frames[0]!.frame.samplesPerChannel).toBe(160);
    expect(frames.reduce((a, f) => a + f.frame.samplesPerChannel, 0)).toBe(16 * 80);
  });

  it('aborting a SynthesizeStream (barge-in) cancels the gRPC call at once; the server sees it', async () => {
    const url = await server({ ttsMsPerChar: 200, ttsChunkDelayMs: 20 });
    const t = makeTTS(url);
    const s = t.stream();
    s.pushText('A very long reply that would take many seconds to speak.');
    s.flush();
    const it = s[Symbol.asyncIterator]();
    await it.next();
    expect(fake!.ttsCalls[0]!.cancelled).toBe(false);
    const t0 = performance.now();
    s.close();
    await waitFor(() => fake!.ttsCalls[0]!.cancelled, 1000);
    expect(performance.now() - t0).toBeLessThan(800);
  });

  it('aborting a ChunkedStream through its signal cancels the call too', async () => {
    const url = await server({ ttsMsPerChar: 200, ttsChunkDelayMs: 20 });
    const t = makeTTS(url);
    const ac = new AbortController();
    const c = t.synthesize('Another long sentence to be interrupted.', undefined, ac.signal);
    await c.next();
    ac.abort();
    await waitFor(() => fake!.ttsCalls[0]?.cancelled === true, 1000);
  });

  it('falls back to unary Synthesize when SynthesizeOnline is UNIMPLEMENTED, then stays unary', async () => {
    const url = await server({ ttsNoStreaming: true });
    const t = makeTTS(url);
    const a = await t.synthesize('First try.').collect();
    const b = await t.synthesize('Second.').collect();
    expect(a.samplesPerChannel).toBe(10 * 160);
    expect(b.samplesPerChannel).toBe(7 * 160);
    expect(fake!.unaryCalls.filter((c) => c.method === 'Synthesize').length).toBe(2);
  });

  it('retries a request that fails with UNAVAILABLE before any audio', async () => {
    const url = await server({ ttsFailFirst: 1 });
    const kinds: string[] = [];
    const observer: RivaObserver = { streamError: (k) => kinds.push(k) };
    const t = makeTTS(url, { observer });
    const f = await t.synthesize('Retry me.').collect();
    expect(f.samplesPerChannel).toBe(9 * 160);
    expect(kinds).toEqual(['tts.unavailable']);
  });

  it('a request that keeps failing ends the reply at once with one error, without waiting for more text', async () => {
    const url = await server({ ttsFailFirst: 1000 });
    const t = makeTTS(url);
    const errors: { error: Error; recoverable: boolean }[] = [];
    t.on('error', (e) => errors.push(e));
    const s = t.stream({ connOptions: { maxRetry: 2, retryIntervalMs: 10, timeoutMs: 1000 } });
    s.pushText('First sentence is here. Second one follows. ');
    // No endInput(): the LLM is still "streaming".
    const { frames } = await drain(s);
    expect(frames).toEqual([]);
    expect(errors.length).toBe(1);
    expect(errors[0]!.recoverable).toBe(false);
    expect(errors[0]!.error.message).toContain('UNAVAILABLE');
    // Retried inside the plugin only (maxRetry + 1 attempts for the first sentence), not again by the framework.
    expect(fake!.ttsOnlineAttempts).toBeLessThanOrEqual(3 + 2);
    s.close();
  });

  it('a server that stalls mid-sentence fails the reply (no retry: audio already went out) instead of hanging', async () => {
    const url = await server({ ttsStallAfterFirstMs: 5000 });
    // Generous: the first chunk must beat it even on a loaded CI machine.
    const t = makeTTS(url, { firstAudioTimeoutMs: 600 });
    const errors: { error: Error; recoverable: boolean }[] = [];
    t.on('error', (e) => errors.push(e));
    const s = t.stream({ connOptions: { maxRetry: 3, retryIntervalMs: 10, timeoutMs: 1000 } });
    s.pushText('This sentence stalls after its first chunk.');
    s.endInput();
    const t0 = performance.now();
    const { frames } = await drain(s);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(frames.length).toBeGreaterThan(0);
    expect(errors.length).toBe(1);
    expect(errors[0]!.error).toBeInstanceOf(APITimeoutError);
    expect(fake!.ttsOnlineAttempts).toBe(1);
    await waitFor(() => fake!.ttsCancellations === 1, 2000);
  });

  it('gives up on a request with no audio within firstAudioTimeoutMs: timeout error, call cancelled', async () => {
    const url = await server({ ttsStallMs: 5000 });
    const t = makeTTS(url, { firstAudioTimeoutMs: 300 });
    const errors: { error: Error; recoverable: boolean }[] = [];
    t.on('error', (e) => errors.push(e));
    const t0 = performance.now();
    // (SynthesizeStream: the framework's ChunkedStream leaves a final failure as an unhandled rejection.)
    const s = t.stream({ connOptions: { maxRetry: 0, retryIntervalMs: 0, timeoutMs: 1000 } });
    s.pushText('Stalled.');
    s.endInput();
    const { frames } = await drain(s);
    expect(frames).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(errors[0]?.error).toBeInstanceOf(APITimeoutError);
    expect(errors[0]?.error.message).toContain('DEADLINE_EXCEEDED');
    await waitFor(() => fake!.ttsCancellations === 1, 2000);
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
