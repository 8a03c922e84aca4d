/**
 * Config RPCs, health, TTS output formats and streaming, startup and shutdown behaviour.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import {
  type HealthCheckResponse,
  loadRivaProtos,
  type SynthesizeSpeechRequest,
  type SynthesizeSpeechResponse__Output,
} from '../../proto/src/index.ts';
import { type SpeechServer, startSpeechServer } from '../src/server.ts';
import { type Clients, connect, PCM16K, readWavData, streamRecognize } from './helpers.ts';

const SAMPLE_WAV = new URL('../../agent/assets/sample-caller.wav', import.meta.url).pathname;
const silent = createLogger({ level: 'silent', service: 'speech-server-test' });

let server: SpeechServer;
let clients: Clients;

beforeAll(async () => {
  server = await startSpeechServer({ port: 0, warmDecoders: 1, logger: silent });
  clients = connect(server.address);
});

afterAll(async () => {
  clients?.close();
  await server?.stop();
});

function synthesize(req: SynthesizeSpeechRequest, c: Clients = clients): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    c.tts.Synthesize(req, (err, res) => (err ? reject(err) : resolve(res?.audio ?? Buffer.alloc(0)))),
  );
}

function healthCheck(address: string, service: string): Promise<HealthCheckResponse['status'] | grpc.status> {
  const client = new (loadRivaProtos().health.Health)(address, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.Check({ service }, (err, res) => {
      client.close();
      resolve(err ? err.code : res?.status);
    }),
  );
}

describe('config RPCs and health', () => {
  it('lists ASR models with the type and language_code keys NVIDIA clients read', async () => {
    const res = await new Promise<Record<string, string>[]>((resolve, reject) =>
      clients.asr.GetRivaSpeechRecognitionConfig({}, (err, r) =>
        err ? reject(err) : resolve((r?.model_config ?? []).map((m) => m.parameters ?? {})),
      ),
    );
    expect(res.map((p) => p.type).sort()).toEqual(['offline', 'online']);
    expect(res.every((p) => p.language_code === 'en-US')).toBe(true);
  });

  it('lists voices as voice_name + subvoices, and every listed voice synthesises', async () => {
    const params = await new Promise<Record<string, string>>((resolve, reject) =>
      clients.tts.GetRivaSynthesisConfig({}, (err, r) =>
        err ? reject(err) : resolve(r?.model_config[0]?.parameters ?? {}),
      ),
    );
    expect(params.language_code).toBe('en-US');
    const names = (params.subvoices ?? '').split(',').map((s) => `${params.voice_name}.${s.split(':')[0]}`);
    expect(names).toContain('English-US.Female-1');
    expect(names).toContain('English-US.Male-1');
    const audio = await Promise.all(names.map((voice_name) => synthesize({ text: 'Hi.', voice_name })));
    expect(audio.every((a) => a.length > 1000)).toBe(true);
  });

  it('reports SERVING for the server and both Riva services, NOT_FOUND otherwise', async () => {
    expect(await healthCheck(server.address, '')).toBe('SERVING');
    expect(await healthCheck(server.address, 'nvidia.riva.asr.RivaSpeechRecognition')).toBe('SERVING');
    expect(await healthCheck(server.address, 'nvidia.riva.tts.RivaSpeechSynthesis')).toBe('SERVING');
    expect(await healthCheck(server.address, 'nope')).toBe(grpc.status.NOT_FOUND);
  });
});

describe('TTS', () => {
  it('honours sample_rate_hz exactly and returns headerless PCM16 or mu-law', async () => {
    const text = 'Your appointment is confirmed.';
    const [a16, a441, mulaw8] = await Promise.all([
      synthesize({ text, sample_rate_hz: 16000, encoding: 'LINEAR_PCM' }),
      synthesize({ text, sample_rate_hz: 44100, encoding: 'LINEAR_PCM' }),
      synthesize({ text, sample_rate_hz: 8000, encoding: 'MULAW' }),
    ]);
    const n16 = a16.length / 2;
    expect(a16.subarray(0, 4).toString('latin1')).not.toBe('RIFF');
    expect(a441.length / 2).toBe(Math.round((n16 * 44100) / 16000));
    expect(mulaw8.length).toBe(Math.round(n16 / 2));
  });

  it('streams SynthesizeOnline sentence by sentence, for any number of requests, echoing ids', async () => {
    const call = clients.tts.SynthesizeOnline();
    const started = performance.now();
    const arrivals: Array<{ ms: number; id: string | undefined; bytes: number }> = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: SynthesizeSpeechResponse__Output) =>
        arrivals.push({ ms: performance.now() - started, id: m.id?.value, bytes: m.audio?.length ?? 0 }),
      );
      call.on('end', () => resolve());
      call.on('error', reject);
    });
    const long =
      'Thank you for calling. Your appointment is on Tuesday at ten. We will send a reminder the day before. Goodbye.';
    call.write({ text: long, sample_rate_hz: 16000, id: { value: 'a' } });
    call.write({ text: 'One more thing.', sample_rate_hz: 16000, id: { value: 'b' } });
    call.end();
    await done;
    expect(arrivals.length).toBeGreaterThan(10);
    expect(arrivals[0]!.id).toBe('a');
    expect(arrivals.at(-1)!.id).toBe('b');
    const firstAudioMs = arrivals[0]!.ms;
    const lastMs = arrivals.at(-1)!.ms;
    console.log(`SynthesizeOnline first audio ${firstAudioMs.toFixed(0)} ms, last ${lastMs.toFixed(0)} ms`);
    // The first sentence arrives well before the whole reply is synthesised.
    expect(firstAudioMs).toBeLessThan(lastMs * 0.7);
  });
});

describe('startup and shutdown', () => {
  it('starts quickly and drains gracefully: open streams finish, new calls get UNAVAILABLE', async () => {
    const s = await startSpeechServer({ port: 0, warmDecoders: 1, graceSeconds: 60, logger: silent });
    console.log(`speech server startup ${s.startupMs.toFixed(0)} ms (decoders load in the background)`);
    expect(s.startupMs).toBeLessThan(2000);
    await s.warmed;
    const c = connect(s.address);
    try {
      const audio = readWavData(SAMPLE_WAV).subarray(0, 16000 * 2 * 5);
      const open = streamRecognize(c, audio, { config: PCM16K, paceMs: 10 });
      while (s.activeStreams === 0) await new Promise((r) => setTimeout(r, 20));
      const stopping = s.stop();
      await new Promise((r) => setTimeout(r, 100));
      expect(await healthCheck(s.address, '')).toBe('NOT_SERVING');
      const late = await streamRecognize(c, Buffer.alloc(3200), { config: PCM16K });
      expect(late.error?.code).toBe(grpc.status.UNAVAILABLE);
      const outcome = await open;
      expect(outcome.error).toBeUndefined();
      expect(outcome.transcript).toContain('appointment');
      await stopping;
    } finally {
      c.close();
    }
  }, 120_000);

  it('forceStop cuts open streams at once, like a crash', async () => {
    const s = await startSpeechServer({ port: 0, warmDecoders: 0, logger: silent });
    const c = connect(s.address);
    try {
      const audio = readWavData(SAMPLE_WAV);
      const open = streamRecognize(c, audio, { config: PCM16K, paceMs: 50 });
      while (s.activeStreams === 0) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      s.forceStop();
      const outcome = await open;
      expect(outcome.error).toBeDefined();
      // Immediate on an idle machine (~10 ms); the bound leaves room for a loaded CI box.
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      c.close();
    }
  });
});
