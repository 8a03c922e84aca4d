import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STT, TTS } from '../src/index.ts';
import { codedAudio, FakeRiva } from './fake-riva.ts';
import { collect, framesOf } from './helpers.ts';

describe('smoke', () => {
  const fake = new FakeRiva();
  let url = '';
  beforeAll(async () => {
    url = await fake.start();
  });
  afterAll(() => fake.stop());

  it('recognizes and synthesizes', async () => {
    const s = new STT({ connection: { url } });
    const stream = s.stream();
    for (const f of framesOf(codedAudio(['alpha', 'bravo'], 16000), 16000, [320])) stream.pushFrame(f);
    stream.endInput();
    const c = await collect(stream, () => false);
    console.log(c.types, c.finals);
    expect(c.finals).toEqual(['alpha bravo']);
    const t = new TTS({ connection: { url } });
    const frame = await t.synthesize('hello world').collect();
    expect(frame.samplesPerChannel).toBe(Math.round(11 * 10 * 16));
    await s.close();
    await t.close();
  });
});
