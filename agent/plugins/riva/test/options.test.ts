import { describe, expect, it } from 'vitest';
import { STT, type STTInit, TTS, type TTSInit } from '../src/index.ts';
import './helpers.ts';

const connection = { url: '127.0.0.1:50051' };

describe('option validation at construction', () => {
  it.each<[Partial<STTInit>, string]>([
    [{ sampleRate: 7000 }, '"sampleRate"'],
    [{ chunkMs: 5 }, '"chunkMs"'],
    [{ language: '' }, '"language"'],
    [{ interimResults: 'yes' as unknown as boolean }, '"interimResults"'],
    [{ maxAlternatives: 0 }, '"maxAlternatives"'],
    [{ speechContexts: [{ phrases: ['ok', ''], boost: 10 }] }, '"speechContexts[0].phrases"'],
    [{ speechContexts: [{ phrases: ['ok'], boost: Number.NaN }] }, '"speechContexts[0].boost"'],
    [{ endpointing: { stopHistoryMs: -1 } }, '"endpointing.stopHistoryMs"'],
    [{ endpointing: { stopThreshold: 2 } }, '"endpointing.stopThreshold"'],
    [{ diarization: { maxSpeakers: 0 } }, '"diarization.maxSpeakers"'],
    [{ reconnect: { initialDelayMs: 500, maxDelayMs: 100 } }, '"reconnect.maxDelayMs"'],
    [{ keepaliveIntervalMs: -5 }, '"keepaliveIntervalMs"'],
    [{ resultTimeoutMs: -1 }, '"resultTimeoutMs": expected an integer between 0 and 600000, got -1'],
    [{ resultTimeoutMs: 2.5 }, '"resultTimeoutMs": expected an integer between 0 and 600000, got 2.5'],
    [{ resultTimeoutMs: '8000' as unknown as number }, '"resultTimeoutMs"'],
    [{ customConfiguration: { a: 1 as unknown as string } }, '"customConfiguration.a"'],
  ])('STT rejects %j naming %s', (bad, name) => {
    expect(() => new STT({ connection, ...bad })).toThrow(`riva.STT: invalid option ${name}`);
  });

  it.each<[Partial<TTSInit>, string]>([
    [{ sampleRate: 1234 }, '"sampleRate"'],
    [{ encoding: 'OGGOPUS' as 'LINEAR_PCM' }, '"encoding"'],
    [{ language: '' }, '"language"'],
    [{ prefetch: 0 }, '"prefetch"'],
    [{ customDictionary: { NVIDIA: '' } }, '"customDictionary.NVIDIA"'],
  ])('TTS rejects %j naming %s', (bad, name) => {
    expect(() => new TTS({ connection, ...bad })).toThrow(`riva.TTS: invalid option ${name}`);
  });

  it('requires a connection', () => {
    expect(() => new STT({} as STTInit)).toThrow('"connection"');
    expect(() => new TTS({} as TTSInit)).toThrow('"connection"');
  });

  it('rejects a bad connection option by name', () => {
    expect(() => new STT({ connection: { url: 'riva:1', keepaliveMs: -1 } })).toThrow('"keepaliveMs"');
    expect(() => new TTS({ connection: { url: 'grpcs://riva:1', tls: false } })).toThrow('"tls: false"');
  });

  it('valid defaults construct without touching the network', async () => {
    const s = new STT({ connection });
    const t = new TTS({ connection, sampleRate: 8000 });
    expect(s.capabilities.streaming).toBe(true);
    expect(s.options.resultTimeoutMs).toBe(8000);
    s.updateOptions({ resultTimeoutMs: 0 });
    expect(s.options.resultTimeoutMs).toBe(0);
    expect(t.sampleRate).toBe(8000);
    expect(s.label).toBe('riva.STT');
    expect(t.provider).toBe('nvidia-riva');
    await s.close();
    await t.close();
  });
});
