/**
 * TTS -> ASR through the real server over loopback gRPC: the dev engine's loopback accuracy, the
 * streaming shape (interims before finals, words with times), the phone path (8 kHz mu-law), the
 * WAV-header path, speech_contexts, endpointing and a long stream.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import type { SynthesizeSpeechRequest } from '../../proto/src/index.ts';
import { type SpeechServer, startSpeechServer } from '../src/server.ts';
import {
  type Clients,
  connect,
  PCM16K,
  PHONE_SENTENCES,
  readWavData,
  silence16k,
  streamRecognize,
  wordErrors,
} from './helpers.ts';

const SAMPLE_WAV = new URL('../../agent/assets/sample-caller.wav', import.meta.url).pathname;
const SAMPLE_MULAW_WAV = new URL('../../agent/assets/sample-caller-8k-mulaw.wav', import.meta.url).pathname;
const SAMPLE_TEXT =
  'hello i would like to book an appointment for next tuesday yes at ten in the morning please thank you goodbye';

let server: SpeechServer;
let clients: Clients;

function synthesize(req: SynthesizeSpeechRequest): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    clients.tts.Synthesize(req, (err, res) => (err ? reject(err) : resolve(res?.audio ?? Buffer.alloc(0)))),
  );
}

beforeAll(async () => {
  server = await startSpeechServer({
    port: 0,
    maxStreams: 8,
    warmDecoders: 2,
    logger: createLogger({ level: 'silent', service: 'speech-server-test' }),
  });
  clients = connect(server.address);
  await server.warmed;
});

afterAll(async () => {
  clients?.close();
  await server?.stop();
});

describe('TTS -> ASR round trip', () => {
  it('transcribes ten phone-call sentences from the default voice with WER <= 10 %', async () => {
    let errors = 0;
    let words = 0;
    const hyps: string[] = [];
    // Two at a time: the machine has two cores and the server one decoder per stream.
    for (let i = 0; i < PHONE_SENTENCES.length; i += 2) {
      const batch = PHONE_SENTENCES.slice(i, i + 2);
      const outcomes = await Promise.all(
        batch.map(async (text) => {
          const audio = await synthesize({
            text,
            language_code: 'en-US',
            encoding: 'LINEAR_PCM',
            sample_rate_hz: 16000,
          });
          return streamRecognize(clients, Buffer.concat([audio, silence16k(600)]), { config: PCM16K });
        }),
      );
      outcomes.forEach((o, j) => {
        expect(o.error).toBeUndefined();
        const e = wordErrors(batch[j]!, o.transcript);
        errors += e.errors;
        words += e.words;
        hyps.push(o.transcript);
      });
    }
    const wer = (100 * errors) / words;
    console.log(
      `loopback WER (flite rms -> PocketSphinx, 16 kHz, generic LM): ${wer.toFixed(1)} % over ${words} words`,
    );
    expect(wer).toBeLessThanOrEqual(10);
  });

  it('sends interims before the final, and finals with words, times and confidence', async () => {
    const audio = readWavData(SAMPLE_WAV);
    const out = await streamRecognize(clients, audio, { config: PCM16K, interim: true });
    expect(out.error).toBeUndefined();
    const results = out.responses.flatMap((r) => r.results);
    const firstFinal = results.findIndex((r) => r.is_final);
    expect(firstFinal).toBeGreaterThan(0);
    expect(results.slice(0, firstFinal).every((r) => !r.is_final && (r.stability ?? 0) > 0)).toBe(true);
    const finals = results.filter((r) => r.is_final);
    expect(finals).toHaveLength(2);
    const first = finals[0]!.alternatives[0]!;
    expect(first.transcript).toContain('appointment');
    expect(first.confidence).toBeGreaterThan(0);
    expect(first.words.length).toBeGreaterThan(5);
    for (const w of first.words) {
      expect(w.end_time!).toBeGreaterThan(w.start_time!);
      expect(w.confidence).toBeGreaterThanOrEqual(0);
    }
    // The second turn starts after ~8.7 s of audio; word times are stream-relative.
    expect(finals[1]!.alternatives[0]!.words[0]!.start_time).toBeGreaterThan(8000);
    // Interims come at least every ~200 ms of speech: the first turn is ~4.4 s long.
    const firstTurnInterims = results.slice(0, firstFinal).length;
    expect(firstTurnInterims).toBeGreaterThanOrEqual(15);
    expect(wordErrors(SAMPLE_TEXT, out.transcript).errors).toBeLessThanOrEqual(3);
  });

  it('reads the format from a WAV header in the first chunk when encoding and rate are unset', async () => {
    const file = readFileSync(SAMPLE_WAV);
    const out = await streamRecognize(clients, file, {
      config: { language_code: 'en-US' },
      chunkBytes: 3200,
    });
    expect(out.error).toBeUndefined();
    expect(out.finals).toHaveLength(2);
    expect(wordErrors(SAMPLE_TEXT, out.transcript).errors).toBeLessThanOrEqual(3);
  });

  it('handles the 8 kHz mu-law phone path, and speech_contexts do not make it worse', async () => {
    const mulaw = readWavData(SAMPLE_MULAW_WAV);
    const config = { encoding: 'MULAW' as const, sample_rate_hertz: 8000, language_code: 'en-US' };
    const plainCall = streamRecognize(clients, mulaw, { config, chunkBytes: 160 * 4 });
    const boostedCall = streamRecognize(clients, mulaw, {
      config: {
        ...config,
        speech_contexts: [
          {
            phrases: [
              'I would like to book an appointment',
              'for next Tuesday',
              'at ten in the morning',
              'thank you goodbye',
            ],
            boost: 20,
          },
        ],
      },
      chunkBytes: 160 * 4,
    });
    const [plain, boosted] = await Promise.all([plainCall, boostedCall]);
    expect(plain.error).toBeUndefined();
    expect(plain.finals).toHaveLength(2);
    expect(plain.transcript).toContain('tuesday');
    const plainWer = wordErrors(SAMPLE_TEXT, plain.transcript);
    const boostedWer = wordErrors(SAMPLE_TEXT, boosted.transcript);
    console.log(
      `8 kHz mu-law sample caller: WER ${((100 * plainWer.errors) / plainWer.words).toFixed(1)} % generic, ${(
        (100 * boostedWer.errors) / boostedWer.words
      ).toFixed(1)} % with speech_contexts (${boosted.transcript})`,
    );
    // Narrowband audio through a wideband model is the engine's weak spot (README). The phrase boost
    // must not make it worse, and must keep the boosted transcript within 25 % WER. (How much it helps
    // varies with the decoder's search cap: 3 vs 4 errors to 5 vs 10 were seen on the same audio.)
    expect(boostedWer.errors).toBeLessThanOrEqual(plainWer.errors);
    expect(boostedWer.errors / boostedWer.words).toBeLessThanOrEqual(0.25);
  });

  it('honours stop_history_eou with a stability-1.0 interim before the final', async () => {
    const audio = await synthesize({ text: 'I would like to speak to a manager.', sample_rate_hz: 16000 });
    const out = await streamRecognize(clients, Buffer.concat([audio, silence16k(1500)]), {
      config: {
        ...PCM16K,
        endpointing_config: {
          stop_history: 800,
          stop_threshold: 0.9,
          stop_history_eou: 240,
          stop_threshold_eou: 0.9,
        },
      },
    });
    const results = out.responses.flatMap((r) => r.results);
    const eou = results.findIndex((r) => !r.is_final && r.stability === 1);
    const final = results.findIndex((r) => r.is_final);
    expect(eou).toBeGreaterThanOrEqual(0);
    expect(final).toBeGreaterThan(eou);
    // The EOU interim is reported ~560 ms of audio before the final.
    expect(results[final]!.audio_processed! - results[eou]!.audio_processed!).toBeGreaterThan(0.4);
    // The early (EOU) transcript is what the agent starts replying on; the final pass may still revise
    // its tail (as Riva's may), so both must hold the sentence, not be byte-identical.
    expect(results[eou]!.alternatives[0]!.transcript).toContain('speak to a manager');
    expect(results[final]!.alternatives[0]!.transcript).toContain('speak to a manager');
  });

  it('keeps up with a 60 s stream sent unpaced', async () => {
    const turn = readWavData(SAMPLE_WAV); // 13 s, two turns
    const audio = Buffer.concat([turn, turn, turn, turn, silence16k(60_000 - 4 * 13_090)]);
    const started = performance.now();
    const out = await streamRecognize(clients, audio, { config: PCM16K, interim: true, chunkBytes: 3200 });
    const wallS = (performance.now() - started) / 1000;
    expect(out.error).toBeUndefined();
    expect(out.finals).toHaveLength(8);
    const last = out.responses.at(-1)!.results[0]!;
    expect(last.audio_processed).toBeGreaterThan(52);
    console.log(`60 s stream decoded in ${wallS.toFixed(1)} s wall (${(60 / wallS).toFixed(1)}x real time)`);
  });

  it('recognizes a whole file with unary Recognize', async () => {
    const file = readFileSync(SAMPLE_WAV);
    const res = await new Promise<{ transcripts: string[] }>((resolve, reject) =>
      clients.asr.Recognize(
        {
          config: { language_code: 'en-US', enable_word_time_offsets: true },
          audio: file,
          id: { value: 'req-1' },
        },
        (err, r) =>
          err
            ? reject(err)
            : resolve({ transcripts: (r?.results ?? []).map((x) => x.alternatives[0]!.transcript!) }),
      ),
    );
    expect(res.transcripts).toHaveLength(2);
    expect(wordErrors(SAMPLE_TEXT, res.transcripts.join(' ')).errors).toBeLessThanOrEqual(3);
  });
});
