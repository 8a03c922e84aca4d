import { ReadableStream } from 'node:stream/web';
import { stt } from '@livekit/agents';
import { AudioFrame, dispose } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STT, type STTInit } from '../src/index.ts';
import { codedAudio, FakeRiva, type FakeScript } from './fake-riva.ts';
import { collect, framesOf } from './helpers.ts';

const E = stt.SpeechEventType;
let fake: FakeRiva;
let url: string;
const open: STT[] = [];

async function withServer(script: FakeScript): Promise<void> {
  await fake?.stop();
  fake = new FakeRiva(script);
  url = await fake.start();
}

function makeSTT(extra: Partial<STTInit> = {}): STT {
  // keepalive off unless a test wants it: on a starved machine it could shift the exact times asserted.
  const s = new STT({ connection: { url }, keepaliveIntervalMs: 0, ...extra });
  open.push(s);
  return s;
}

/** Pushes all frames unpaced, ends input, and collects every event until the stream closes. */
async function run(s: STT, pcm: Int16Array, rate: number, sizes: number[] = [320]) {
  const stream = s.stream();
  for (const f of framesOf(pcm, rate, sizes)) stream.pushFrame(f);
  stream.endInput();
  return collect(stream, () => false);
}

beforeAll(() => withServer({}));
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterAll(async () => {
  await fake.stop();
  // rtc-node's FFI (the resampler) keeps Node alive otherwise.
  await dispose();
});

describe('riva.STT streaming', () => {
  it('sends the config alone first, then audio-only messages, and half-closes at input end', async () => {
    await withServer({});
    const c = await run(makeSTT(), codedAudio(['alpha'], 16000), 16000);
    expect(c.finals).toEqual(['alpha']);
    const rec = fake.asrStreams[0]!;
    expect(rec.protocolErrors).toEqual([]);
    expect(rec.config?.config?.encoding).toBe('LINEAR_PCM');
    expect(rec.config?.config?.sample_rate_hertz).toBe(16000);
    expect(rec.config?.interim_results).toBe(true);
    expect(rec.chunkSizes.length).toBeGreaterThan(0);
    expect(rec.halfClosed).toBe(true);
  });

  it('works whether the server answers while audio flows or only after the half-close', async () => {
    for (const asrReplyAfterHalfClose of [false, true]) {
      await withServer({ asrReplyAfterHalfClose });
      const c = await run(makeSTT(), codedAudio(['alpha', 'bravo', 'charlie'], 16000), 16000);
      expect(c.finals, `replyAfterHalfClose=${asrReplyAfterHalfClose}`).toEqual(['alpha bravo charlie']);
      expect(c.types[0]).toBe('START_OF_SPEECH');
    }
  });

  it('re-frames arbitrary frame sizes into 100 ms chunks', async () => {
    await withServer({});
    const pcm = codedAudio(['delta', 'echo'], 16000);
    const c = await run(makeSTT(), pcm, 16000, [7, 333, 160, 1201, 480, 1]);
    expect(c.finals).toEqual(['delta echo']);
    const sizes = fake.asrStreams[0]!.chunkSizes;
    // Every chunk but the flushed tail is exactly 100 ms of 16 kHz PCM16.
    expect(sizes.slice(0, -1).every((n) => n === 3200)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(pcm.length * 2);
    expect(sizes[sizes.length - 1]).toBe((pcm.length * 2) % 3200 || 3200);
  });

  it('honours chunkMs', async () => {
    await withServer({});
    await run(makeSTT({ chunkMs: 40 }), codedAudio(['golf'], 16000), 16000, [480]);
    expect(fake.asrStreams[0]!.chunkSizes[0]).toBe(1280);
  });

  it('maps interim and final results: START, INTERIM, FINAL with words, END, usage', async () => {
    await withServer({});
    const pcm = codedAudio(['alpha', 'bravo'], 16000, { leadMs: 500, wordMs: 200, gapMs: 100 });
    const secondUtterance = codedAudio(['charlie'], 16000);
    const all = new Int16Array(pcm.length + secondUtterance.length);
    all.set(pcm);
    all.set(secondUtterance, pcm.length);
    const c = await run(makeSTT(), all, 16000);
    expect(c.types.filter((t) => t !== 'INTERIM_TRANSCRIPT')).toEqual([
      'START_OF_SPEECH',
      'FINAL_TRANSCRIPT',
      'END_OF_SPEECH',
      'START_OF_SPEECH',
      'FINAL_TRANSCRIPT',
      'END_OF_SPEECH',
      'RECOGNITION_USAGE',
    ]);
    expect(c.types.indexOf('INTERIM_TRANSCRIPT')).toBe(1);
    const interims = c.events
      .filter((e) => e.type === E.INTERIM_TRANSCRIPT)
      .map((e) => e.alternatives![0].text);
    expect(interims).toContain('alpha');
    const finals = c.events.filter((e) => e.type === E.FINAL_TRANSCRIPT);
    const first = finals[0]!.alternatives![0];
    expect(first.text).toBe('alpha bravo');
    expect(first.language).toBe('en-US');
    expect(first.confidence).toBeCloseTo(0.9, 5);
    expect(first.words?.map((w) => w.text)).toEqual(['alpha', 'bravo']);
    // alpha: 500–700 ms, bravo: 800–1000 ms of the stream timeline.
    expect(first.words![0]!.startTime).toBeCloseTo(0.5, 2);
    expect(first.words![0]!.endTime).toBeCloseTo(0.7, 2);
    expect(first.words![1]!.startTime).toBeCloseTo(0.8, 2);
    expect(first.words![1]!.confidence).toBeCloseTo(0.95, 5);
    expect(first.startTime).toBeCloseTo(0.5, 2);
    expect(first.endTime).toBeCloseTo(1.0, 2);
    // The second utterance's times are on the same timeline, after the first.
    const second = finals[1]!.alternatives![0];
    expect(second.text).toBe('charlie');
    expect(second.startTime).toBeGreaterThan(first.endTime);
    const usage = c.events.filter((e) => e.type === E.RECOGNITION_USAGE);
    const seconds = usage.reduce((a, e) => a + (e.recognitionUsage?.audioDuration ?? 0), 0);
    expect(seconds).toBeCloseTo(all.length / 16000, 3);
  });

  it('surfaces the stability-1.0 EOU interim as PREFLIGHT_TRANSCRIPT when asked', async () => {
    await withServer({});
    const endpointing = { stopHistoryMs: 500, stopHistoryEouMs: 200 };
    const pcm = codedAudio(['hotel', 'india'], 16000, { tailMs: 700 });
    const withFlag = await run(makeSTT({ endpointing, preflightOnEou: true }), pcm, 16000);
    const pre = withFlag.events.filter((e) => e.type === E.PREFLIGHT_TRANSCRIPT);
    expect(pre.map((e) => e.alternatives![0].text)).toEqual(['hotel india']);
    expect(withFlag.types.indexOf('PREFLIGHT_TRANSCRIPT')).toBeLessThan(
      withFlag.types.indexOf('FINAL_TRANSCRIPT'),
    );
    const without = await run(makeSTT({ endpointing }), pcm, 16000);
    expect(without.types).not.toContain('PREFLIGHT_TRANSCRIPT');
    expect(without.finals).toEqual(['hotel india']);
  });

  it('sends word boosting, endpointing, diarization and recognition settings to the server', async () => {
    await withServer({});
    await run(
      makeSTT({
        language: 'de-DE',
        model: 'parakeet-1.1b-en-US-asr-streaming-silero-vad-sortformer',
        speechContexts: [{ phrases: ['Riva', 'LiveKit'], boost: 40 }],
        endpointing: { startHistoryMs: 0, stopHistoryMs: 320, stopHistoryEouMs: 160, stopThreshold: 0.5 },
        diarization: { maxSpeakers: 2 },
        profanityFilter: true,
        verbatimTranscripts: true,
        punctuation: false,
        maxAlternatives: 2,
        customConfiguration: { enable_vad_endpointing: 'true' },
        interimResults: false,
      }),
      codedAudio(['kilo'], 16000),
      16000,
    );
    const cfg = fake.asrStreams[0]!.config!;
    expect(cfg.interim_results ?? false).toBe(false);
    const rc = cfg.config!;
    expect(rc.language_code).toBe('de-DE');
    expect(rc.model).toBe('parakeet-1.1b-en-US-asr-streaming-silero-vad-sortformer');
    expect(rc.speech_contexts).toEqual([{ phrases: ['Riva', 'LiveKit'], boost: 40 }]);
    // An explicit 0 is sent (proto3 optional), unset fields stay absent.
    expect(rc.endpointing_config?.start_history).toBe(0);
    expect(rc.endpointing_config?.stop_history).toBe(320);
    expect(rc.endpointing_config?.stop_history_eou).toBe(160);
    expect(rc.endpointing_config?.stop_threshold).toBeCloseTo(0.5, 5);
    expect(rc.endpointing_config?.start_threshold).toBeUndefined();
    expect(rc.diarization_config).toEqual({ enable_speaker_diarization: true, max_speaker_count: 2 });
    expect(rc.profanity_filter).toBe(true);
    expect(rc.verbatim_transcripts).toBe(true);
    expect(rc.enable_automatic_punctuation ?? false).toBe(false);
    expect(rc.max_alternatives).toBe(2);
    expect(rc.custom_configuration).toEqual({ enable_vad_endpointing: 'true' });
  });

  it('leaves endpointing_config out entirely when no endpointing option is set', async () => {
    await withServer({});
    await run(makeSTT(), codedAudio(['lima'], 16000), 16000);
    expect(fake.asrStreams[0]!.config!.config!.endpointing_config).toBeUndefined();
  });

  it('accepts 8 kHz telephony frames, resampled to 16 kHz for Riva', async () => {
    await withServer({});
    const c = await run(makeSTT(), codedAudio(['mike', 'november', 'alpha'], 8000), 8000, [160]);
    expect(c.finals).toEqual(['mike november alpha']);
    expect(fake.asrStreams[0]!.config!.config!.sample_rate_hertz).toBe(16000);
  });

  it('can send 8 kHz to Riva as is (sampleRate: 8000)', async () => {
    await withServer({});
    const c = await run(makeSTT({ sampleRate: 8000 }), codedAudio(['foxtrot', 'golf'], 8000), 8000, [160]);
    expect(c.finals).toEqual(['foxtrot golf']);
    expect(fake.asrStreams[0]!.config!.config!.sample_rate_hertz).toBe(8000);
    expect(fake.asrStreams[0]!.chunkSizes[0]).toBe(1600);
  });

  it('keeps an idle stream alive with silence', async () => {
    await withServer({});
    const s = makeSTT({ keepaliveIntervalMs: 40 });
    const stream = s.stream();
    stream.pushFrame(new AudioFrame(new Int16Array(320), 16000, 1, 320));
    // No caller audio reached a full chunk, yet silence chunks keep flowing (every ~40 ms).
    const t0 = performance.now();
    while ((fake.asrStreams[0]?.chunkSizes.length ?? 0) < 4 && performance.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fake.asrStreams[0]!.chunkSizes.length).toBeGreaterThanOrEqual(4);
    expect(fake.asrStreams[0]!.chunkSizes.every((n) => n === 3200)).toBe(true);
    stream.endInput();
    const c = await collect(stream, () => false);
    // Keepalive silence is not billed as caller audio.
    const usage = c.events.filter((e) => e.type === E.RECOGNITION_USAGE);
    expect(usage.reduce((a, e) => a + (e.recognitionUsage?.audioDuration ?? 0), 0)).toBeCloseTo(0.02, 3);
  });

  it('reads audio the way the framework feeds it (updateInputStream with a ReadableStream)', async () => {
    await withServer({});
    const s = makeSTT();
    const stream = s.stream();
    const frames = framesOf(codedAudio(['echo', 'delta'], 48000), 48000, [480]);
    stream.updateInputStream(
      new ReadableStream<AudioFrame>({
        start(controller) {
          for (const f of frames) controller.enqueue(f);
          controller.close();
        },
      }),
    );
    const c = await collect(stream, (x) => x.finals.length > 0);
    stream.close();
    expect(c.finals).toEqual(['echo delta']);
    expect(c.types.slice(0, 2)).toEqual(['START_OF_SPEECH', 'INTERIM_TRANSCRIPT']);
  });

  it('sends nothing after the half-close, even with keepalive due while the server finishes', async () => {
    await withServer({ asrFinishDelayMs: 300 });
    const c = await run(makeSTT({ keepaliveIntervalMs: 20 }), codedAudio(['bravo', 'charlie'], 16000), 16000);
    expect(c.finals).toEqual(['bravo charlie']);
    // One stream: no "write after end" failure and reconnect.
    expect(fake.asrStreams.length).toBe(1);
  });

  it('recognize() uses unary Recognize', async () => {
    await withServer({});
    const s = makeSTT();
    const pcm = codedAudio(['juliet', 'kilo'], 16000);
    const ev = await s.recognize(new AudioFrame(pcm, 16000, 1, pcm.length));
    expect(ev.type).toBe(E.FINAL_TRANSCRIPT);
    expect(ev.alternatives?.[0].text).toBe('juliet kilo');
    expect(ev.alternatives?.[0].words?.length).toBe(2);
    expect(fake.unaryCalls.map((c) => c.method)).toContain('Recognize');
  });
});
