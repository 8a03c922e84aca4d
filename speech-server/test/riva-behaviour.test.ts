/**
 * Where the dev server must behave like Riva 2.x for NVIDIA's own clients: finals end with a space (the
 * clients concatenate them), punctuation when asked, the same transcript for the same audio on every
 * call (no decoder state carried from one stream to the next), empty or truncated WAVs treated alike
 * by streaming and offline recognition, and Riva's error texts.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import type { RecognitionConfig, RecognizeResponse__Output } from '../../proto/src/index.ts';
import { type SpeechServer, startSpeechServer } from '../src/server.ts';
import { type Clients, connect, PCM16K, readWavData, streamRecognize } from './helpers.ts';

const SAMPLE_WAV = new URL('../../agent/assets/sample-caller.wav', import.meta.url).pathname;
const MULAW_WAV = new URL('../../agent/assets/sample-caller-8k-mulaw.wav', import.meta.url).pathname;
const silent = createLogger({ level: 'silent', service: 'speech-server-test' });

let server: SpeechServer;
let clients: Clients;

beforeAll(async () => {
  // One slot and one decoder: successive calls run on the same decoder, which is what leaked state.
  server = await startSpeechServer({ port: 0, maxStreams: 1, warmDecoders: 1, logger: silent });
  clients = connect(server.address);
});

afterAll(async () => {
  clients?.close();
  await server?.stop();
});

function recognize(
  config: RecognitionConfig,
  audio: Buffer,
): Promise<{ err: grpc.ServiceError | undefined; res: RecognizeResponse__Output | undefined }> {
  return new Promise((resolve) =>
    clients.asr.Recognize({ config, audio }, (err, res) => resolve({ err: err ?? undefined, res })),
  );
}

const transcripts = (res: RecognizeResponse__Output | undefined) =>
  (res?.results ?? []).map((r) => r.alternatives[0]?.transcript ?? '');

/** A WAV header with no samples (what a recorder that was stopped at once writes). */
function emptyWav(): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(0, 40);
  return h;
}

describe('finals as Riva writes them', () => {
  it('ends every final with a space, so concatenated finals keep utterances apart', async () => {
    const { err, res } = await recognize(PCM16K, readWavData(SAMPLE_WAV));
    expect(err).toBeUndefined();
    const finals = transcripts(res);
    expect(finals.length).toBeGreaterThanOrEqual(2);
    for (const t of finals) expect(t).toMatch(/\S $/);
    // NVIDIA's transcribe_file_offline.py: final_transcript += transcript.
    expect(finals.join('')).toMatch(/appointment.* \S/);
    expect(finals.join('')).not.toMatch(/\S{25,}/);
  });

  it('capitalises and ends sentences when enable_automatic_punctuation is set; interims stay raw', async () => {
    const { res } = await recognize(
      { ...PCM16K, enable_automatic_punctuation: true },
      readWavData(SAMPLE_WAV),
    );
    const finals = transcripts(res);
    expect(finals.length).toBeGreaterThanOrEqual(2);
    for (const t of finals) expect(t).toMatch(/^[A-Z].*[.?] $/);
    const streamed = await streamRecognize(clients, readWavData(SAMPLE_WAV), {
      config: { ...PCM16K, enable_automatic_punctuation: true },
      interim: true,
    });
    const interims = streamed.responses.flatMap((r) => r.results).filter((r) => !r.is_final);
    expect(interims.length).toBeGreaterThan(0);
    for (const r of interims) expect(r.alternatives[0]?.transcript).not.toMatch(/[A-Z.?]/);
  });

  it('gives the same transcript for the same audio on successive calls to one decoder', async () => {
    const audio = readWavData(MULAW_WAV);
    const config: RecognitionConfig = { ...PCM16K, encoding: 'MULAW', sample_rate_hertz: 8000 };
    const runs: string[] = [];
    // Without the reset between streams, already the second call differs (5 calls gave 4 transcripts).
    for (let i = 0; i < 2; i++) {
      const { err, res } = await recognize(config, audio);
      expect(err).toBeUndefined();
      runs.push(transcripts(res).join(''));
    }
    // Streams in between with other audio (and a boosted phrase LM) must not change it either.
    await streamRecognize(clients, readWavData(SAMPLE_WAV), {
      config: { ...PCM16K, speech_contexts: [{ phrases: ['book an appointment'], boost: 20 }] },
    });
    const { res } = await recognize(config, audio);
    runs.push(transcripts(res).join(''));
    console.log(`3 calls on one decoder: ${new Set(runs).size} distinct transcript(s)`);
    expect(new Set(runs).size).toBe(1);
    expect(runs[0]).not.toBe('');
  });
});

describe('empty and truncated WAV', () => {
  const cases: Array<[string, Buffer]> = [
    ['no audio at all', Buffer.alloc(0)],
    ['a header with no samples', emptyWav()],
    ['a truncated header', emptyWav().subarray(0, 20)],
  ];
  const wavConfig: RecognitionConfig = { language_code: 'en-US', max_alternatives: 1 };
  for (const [name, audio] of cases) {
    it(`answers ${name} with OK and no results, streaming and offline alike`, async () => {
      const offline = await recognize(wavConfig, audio);
      const streamed = await streamRecognize(clients, audio, { config: wavConfig });
      expect({ offline: offline.err?.code, streamed: streamed.error?.code }).toEqual({
        offline: undefined,
        streamed: undefined,
      });
      expect(offline.res?.results).toEqual([]);
      expect(streamed.finals).toEqual([]);
    });
  }
});

describe("Riva's error texts", () => {
  it('words unknown languages, models and rates as Riva does, with INVALID_ARGUMENT', async () => {
    const pcm = Buffer.alloc(3200);
    const lang = await recognize({ ...PCM16K, language_code: 'de-DE' }, pcm);
    const rate = await recognize({ ...PCM16K, sample_rate_hertz: 1234 }, pcm);
    const online = await streamRecognize(clients, pcm, { config: { ...PCM16K, language_code: 'fr-FR' } });
    const model = await streamRecognize(clients, pcm, { config: { ...PCM16K, model: 'parakeet-ctc' } });
    // The config says 16 kHz, the file's header 8 kHz.
    const mismatch = await recognize(PCM16K, readFileSync(MULAW_WAV));
    for (const e of [lang.err, rate.err, online.error, model.error, mismatch.err])
      expect(e?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const prefix = 'Error: Unavailable model requested given these parameters: ';
    expect(lang.err?.details).toBe(`${prefix}language_code=de-DE; sample_rate=16000; type=offline; `);
    expect(rate.err?.details).toBe(`${prefix}language_code=en-US; sample_rate=1234; type=offline; `);
    expect(online.error?.details).toBe(`${prefix}language_code=fr-FR; sample_rate=16000; type=online; `);
    expect(model.error?.details).toBe(
      `${prefix}language_code=en-US; sample_rate=16000; type=online; model=parakeet-ctc; `,
    );
    expect(mismatch.err?.details).toBe("Error: config format doesn't match with header format");
  });

  it('says in the config RPC what is approximated or not done', async () => {
    const res = await new Promise<Record<string, string>>((resolve, reject) =>
      clients.asr.GetRivaSpeechRecognitionConfig({}, (err, r) =>
        err ? reject(err) : resolve(r?.model_config[0]?.parameters ?? {}),
      ),
    );
    expect(res.type).toBe('online');
    expect(res.inverse_text_normalization).toMatch(/not done/);
    expect(res.diarization).toMatch(/not done/);
    expect(res.automatic_punctuation).toMatch(/capitalisation/);
  });
});
