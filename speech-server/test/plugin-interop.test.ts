/**
 * The project's own Riva plugin (agent/plugins/riva) against this server: discovery, health, and a
 * TTS -> STT round trip through the plugin's LiveKit-facing classes, the path the agent uses.
 */
import { initializeLogger } from '@livekit/agents';

// The framework's classes log through a global logger that must exist first.
initializeLogger({ pretty: false, level: 'error' });

import { stt } from '@livekit/agents';
import { AudioFrame, dispose } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHealth,
  createRivaChannel,
  listAsrModels,
  listTtsVoices,
  STT,
  TTS,
} from '../../agent/plugins/riva/src/index.ts';
import { createLogger } from '../../common/src/logger.ts';
import { type SpeechServer, startSpeechServer } from '../src/server.ts';
import { PHONE_SENTENCES, wordErrors } from './helpers.ts';

let server: SpeechServer;

beforeAll(async () => {
  server = await startSpeechServer({
    port: 0,
    warmDecoders: 1,
    logger: createLogger({ level: 'silent', service: 'speech-server-test' }),
  });
});

afterAll(async () => {
  await server?.stop();
  // rtc-node's FFI keeps Node alive otherwise.
  await dispose();
});

describe('agent/plugins/riva against the CPU speech server', () => {
  it('discovers models and voices and sees the server healthy', async () => {
    const channel = createRivaChannel({ url: server.address });
    try {
      expect(await checkHealth(channel)).toBe('SERVING');
      const models = await listAsrModels(channel);
      expect(models.some((m) => m.type === 'online' && m.languageCode === 'en-US')).toBe(true);
      const voices = await listTtsVoices(channel);
      expect(voices[0]?.voiceName).toBe('English-US');
      expect(voices[0]?.subvoices.map((s) => s.split(':')[0])).toContain('Female-1');
    } finally {
      channel.close();
    }
  });

  it('round-trips phone sentences through the plugin TTS and STT', async () => {
    const tts = new TTS({
      connection: { url: server.address },
      voice: 'English-US.Male-1',
      sampleRate: 16000,
    });
    const recognizer = new STT({ connection: { url: server.address }, sampleRate: 16000 });
    try {
      const sentences = PHONE_SENTENCES.slice(0, 3);
      const frames: AudioFrame[] = [];
      for (const text of sentences) {
        for await (const ev of tts.synthesize(text)) frames.push(ev.frame);
        // Half a second of silence ends each utterance.
        frames.push(new AudioFrame(new Int16Array(8000), 16000, 1, 8000));
      }
      const stream = recognizer.stream();
      for (const f of frames) stream.pushFrame(f);
      stream.endInput();
      const finals: string[] = [];
      let interims = 0;
      for await (const ev of stream) {
        if (ev.type === stt.SpeechEventType.INTERIM_TRANSCRIPT) interims++;
        if (ev.type === stt.SpeechEventType.FINAL_TRANSCRIPT) finals.push(ev.alternatives?.[0]?.text ?? '');
      }
      const { errors, words } = wordErrors(sentences.join(' '), finals.join(' '));
      console.log(
        `plugin round trip: ${finals.length} finals, ${interims} interims, WER ${((100 * errors) / words).toFixed(1)} %`,
      );
      expect(finals.length).toBe(3);
      expect(interims).toBeGreaterThan(0);
      expect(errors / words).toBeLessThanOrEqual(0.15);
    } finally {
      await tts.close();
      await recognizer.close();
    }
  });
});
