import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../src/config.ts';
import { createRivaModels, rivaSettingsFromConfig } from '../src/riva.ts';

describe('agent config: Riva result watchdog', () => {
  it('defaults to 8 s, accepts 0 (off), and reaches the STT plugin', async () => {
    expect(loadAgentConfig({}).RIVA_RESULT_TIMEOUT_MS).toBe(8000);
    const off = loadAgentConfig({ RIVA_RESULT_TIMEOUT_MS: '0' });
    expect(off.RIVA_RESULT_TIMEOUT_MS).toBe(0);
    const settings = rivaSettingsFromConfig(
      loadAgentConfig({ RIVA_RESULT_TIMEOUT_MS: '2500' }),
      '127.0.0.1:1',
      [],
    );
    expect(settings.resultTimeoutMs).toBe(2500);
    const { stt, tts } = createRivaModels(settings);
    expect(stt.options.resultTimeoutMs).toBe(2500);
    await Promise.all([stt.close(), tts.close()]);
  });

  it('rejects negative, fractional and absurd values with the field named', () => {
    for (const bad of ['-1', '1.5', 'soon', '700000']) {
      expect(() => loadAgentConfig({ RIVA_RESULT_TIMEOUT_MS: bad })).toThrow(/RIVA_RESULT_TIMEOUT_MS/);
    }
  });
});

describe('agent config: MAX_CPU_LOAD', () => {
  it('defaults to 0.8 and accepts a fraction above 0 up to 1', () => {
    expect(loadAgentConfig({}).MAX_CPU_LOAD).toBe(0.8);
    expect(loadAgentConfig({ MAX_CPU_LOAD: '1' }).MAX_CPU_LOAD).toBe(1);
    expect(loadAgentConfig({ MAX_CPU_LOAD: '0.65' }).MAX_CPU_LOAD).toBe(0.65);
  });

  it('rejects 0, negatives, more than 1, percentages and words with the field named', () => {
    for (const bad of ['0', '-0.5', '1.2', '80', '80%', 'high', 'Infinity']) {
      expect(() => loadAgentConfig({ MAX_CPU_LOAD: bad })).toThrow(/MAX_CPU_LOAD: expected a fraction/);
    }
  });
});
