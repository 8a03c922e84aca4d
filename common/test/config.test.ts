import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envFields, loadConfig } from '../src/config.ts';

const schema = z.object({
  PORT: envFields.port(8080),
  RIVA_URL: envFields.url().optional(),
  DEBUG_AUDIO: envFields.bool(false),
  ALLOWED_REGIONS: envFields.list(['eu-central']),
});

describe('loadConfig', () => {
  it('applies defaults when variables are unset or empty', () => {
    const config = loadConfig(schema, { PORT: '' });
    expect(config).toEqual({ PORT: 8080, DEBUG_AUDIO: false, ALLOWED_REGIONS: ['eu-central'] });
  });

  it('parses typed values', () => {
    const config = loadConfig(schema, {
      PORT: '9000',
      RIVA_URL: 'grpc://riva:50051',
      DEBUG_AUDIO: 'yes',
      ALLOWED_REGIONS: 'eu-central, eu-west',
    });
    expect(config).toEqual({
      PORT: 9000,
      RIVA_URL: 'grpc://riva:50051',
      DEBUG_AUDIO: true,
      ALLOWED_REGIONS: ['eu-central', 'eu-west'],
    });
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: 'eighty', RIVA_URL: 'not a url', DEBUG_AUDIO: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('RIVA_URL');
    expect(message).toContain('DEBUG_AUDIO');
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      'DEBUG_AUDIO',
      'PORT',
      'RIVA_URL',
    ]);
  });

  it('ignores variables the schema does not name', () => {
    expect(loadConfig(schema, { HOME: '/root', PORT: '1' }).PORT).toBe(1);
  });
});
