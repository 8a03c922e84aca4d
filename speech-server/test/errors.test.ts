/**
 * Bad input gets Riva's status codes, on that call only: a good stream running at the same time
 * still gets its transcript. Also the stream limit, the message-size limit and cancellation.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import type { SynthesizeSpeechRequest } from '../../proto/src/index.ts';
import { type SpeechServer, startSpeechServer } from '../src/server.ts';
import { type Clients, connect, PCM16K, readWavData, streamRecognize, waitFor } from './helpers.ts';

const SAMPLE_WAV = new URL('../../agent/assets/sample-caller.wav', import.meta.url).pathname;
const silent = createLogger({ level: 'silent', service: 'speech-server-test' });
const MAX_MESSAGE = 1024 * 1024;

let server: SpeechServer;
let clients: Clients;

beforeAll(async () => {
  server = await startSpeechServer({
    port: 0,
    maxStreams: 16,
    warmDecoders: 1,
    maxMessageBytes: MAX_MESSAGE,
    logger: silent,
  });
  clients = connect(server.address);
});

afterAll(async () => {
  clients?.close();
  await server?.stop();
});

const pcm = Buffer.alloc(3200);

function synthesize(c: Clients, req: SynthesizeSpeechRequest): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => c.tts.Synthesize(req, (err) => resolve(err ?? undefined)));
}

function synthesizeOnline(
  c: Clients,
  reqs: SynthesizeSpeechRequest[],
): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    const call = c.tts.SynthesizeOnline();
    call.on('data', () => {});
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('end', () => resolve(undefined));
    for (const r of reqs) call.write(r);
    call.end();
  });
}

describe('bad input', () => {
  it('answers every bad request with the right status while a parallel good stream succeeds', async () => {
    // The good stream is paced at 4x real time so it is open for the whole test.
    const good = streamRecognize(clients, readWavData(SAMPLE_WAV), {
      config: PCM16K,
      paceMs: 25,
      chunkBytes: 3200,
    });
    const cases: Array<[string, Promise<grpc.ServiceError | undefined>, grpc.status]> = [
      [
        'audio before config',
        new Promise((resolve) => {
          const call = clients.asr.StreamingRecognize();
          call.on('data', () => {});
          call.on('error', (e: grpc.ServiceError) => resolve(e));
          call.on('end', () => resolve(undefined));
          call.write({ audio_content: pcm });
          call.end();
        }),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'config twice',
        streamRecognize(clients, pcm, {
          config: PCM16K,
          extra: [{ streaming_config: { config: PCM16K } }],
        }).then((o) => o.error),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'unknown encoding',
        streamRecognize(clients, pcm, {
          // 42 is not an AudioEncoding value; protobuf carries it as a raw number.
          config: { ...PCM16K, encoding: 42 as unknown as 'LINEAR_PCM' },
        }).then((o) => o.error),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'unsupported encoding (FLAC)',
        streamRecognize(clients, pcm, { config: { ...PCM16K, encoding: 'FLAC' } }).then((o) => o.error),
        grpc.status.UNIMPLEMENTED,
      ],
      [
        'unknown model',
        streamRecognize(clients, pcm, {
          config: { ...PCM16K, model: 'parakeet-1.1b-en-US-asr-streaming' },
        }).then((o) => o.error),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'unknown language',
        streamRecognize(clients, pcm, { config: { ...PCM16K, language_code: 'de-DE' } }).then((o) => o.error),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'odd PCM byte length',
        streamRecognize(clients, Buffer.alloc(3201), { config: PCM16K, chunkBytes: 3201 }).then(
          (o) => o.error,
        ),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'no encoding and no WAV header',
        streamRecognize(clients, pcm, { config: { language_code: 'en-US' } }).then((o) => o.error),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'unary Recognize with a bad rate',
        new Promise((resolve) =>
          clients.asr.Recognize({ config: { ...PCM16K, sample_rate_hertz: 1234 }, audio: pcm }, (e) =>
            resolve(e ?? undefined),
          ),
        ),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'message over the size limit',
        streamRecognize(clients, Buffer.alloc(MAX_MESSAGE + 1024), {
          config: PCM16K,
          chunkBytes: MAX_MESSAGE + 1024,
        }).then((o) => o.error),
        grpc.status.RESOURCE_EXHAUSTED,
      ],
      [
        'TTS empty text',
        synthesize(clients, { text: '   ', language_code: 'en-US' }),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'TTS unknown voice',
        synthesize(clients, { text: 'Hello.', voice_name: 'English-US.Robot-9' }),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'TTS unknown language',
        synthesize(clients, { text: 'Hallo.', language_code: 'de-DE' }),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        'SynthesizeOnline with empty text in its second request',
        synthesizeOnline(clients, [{ text: 'Hello there.' }, { text: '' }]),
        grpc.status.INVALID_ARGUMENT,
      ],
    ];
    const errors = await Promise.all(cases.map(([, p]) => p));
    cases.forEach(([name, , code], i) => {
      expect({ name, code: errors[i]?.code }).toEqual({ name, code });
    });
    expect(errors[0]?.details).toContain('streaming_config');
    expect(errors[4]?.details).toContain('Unavailable model requested');

    const outcome = await good;
    expect(outcome.error).toBeUndefined();
    expect(outcome.finals).toHaveLength(2);
    expect(outcome.transcript).toContain('appointment');
  });

  it('refuses streams past maxStreams with RESOURCE_EXHAUSTED and frees slots on cancel', async () => {
    const small = await startSpeechServer({ port: 0, maxStreams: 2, warmDecoders: 0, logger: silent });
    const c = connect(small.address);
    try {
      const open = [c.asr.StreamingRecognize(), c.asr.StreamingRecognize()];
      const cancelled = open.map(
        (call) =>
          new Promise<grpc.status | undefined>((resolve) => {
            call.on('data', () => {});
            call.on('error', (e: grpc.ServiceError) => resolve(e.code));
            call.on('end', () => resolve(undefined));
            call.write({ streaming_config: { config: PCM16K, interim_results: true } });
            call.write({ audio_content: pcm });
          }),
      );
      while (small.activeStreams < 2) await new Promise((r) => setTimeout(r, 20));
      const third = await streamRecognize(c, pcm, { config: PCM16K });
      expect(third.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      const tts = await synthesize(c, { text: 'Hello.' });
      expect(tts?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);

      for (const call of open) call.cancel();
      expect(await Promise.all(cancelled)).toEqual([grpc.status.CANCELLED, grpc.status.CANCELLED]);
      // Both slots are free again once the decoders have acknowledged (a cold one finishes loading first).
      await waitFor(() => small.activeStreams === 0, 20_000, 'slots to be released');
      const again = await Promise.all([
        streamRecognize(c, pcm, { config: PCM16K }),
        streamRecognize(c, pcm, { config: PCM16K }),
      ]);
      expect(again.map((o) => o.error?.code)).toEqual([undefined, undefined]);
    } finally {
      c.close();
      small.forceStop();
    }
  });

  it('lets a client cancel a stream mid-utterance without disturbing the next one', async () => {
    const audio = readWavData(SAMPLE_WAV);
    const cancelled = await streamRecognize(clients, audio, {
      config: PCM16K,
      cancelAfterChunks: 40,
      paceMs: 5,
    });
    expect(cancelled.error?.code).toBe(grpc.status.CANCELLED);
    const next = await streamRecognize(clients, audio.subarray(0, 16000 * 2 * 6), { config: PCM16K });
    expect(next.error).toBeUndefined();
    expect(next.transcript).toContain('appointment');
  });
});
