/**
 * The speech server's configuration, read once from the environment by main.ts (the only place that
 * passes process.env). Names and defaults match docs/development.md.
 */
import { z } from 'zod';
import { type Env, envFields, loadConfig } from '../../common/src/config.ts';

export const speechServerEnvSchema = z.object({
  SPEECH_SERVER_HOST: z.string().default('127.0.0.1'),
  SPEECH_SERVER_PORT: envFields.port(50051),
  SPEECH_SERVER_MAX_STREAMS: envFields.positiveInt(8),
  SPEECH_SERVER_GRACE_SECONDS: envFields.nonNegativeInt(10),
  /** Largest gRPC message accepted or sent (Riva's and gRPC's default is 4 MiB). */
  SPEECH_SERVER_MAX_MESSAGE_BYTES: envFields.positiveInt(4 * 1024 * 1024),
  /** Decoders kept loaded for new streams; 0 loads one per stream on demand. */
  SPEECH_SERVER_WARM_DECODERS: envFields.nonNegativeInt(2),
  LOG_LEVEL: envFields.logLevel(),
});

export interface SpeechServerConfig {
  host: string;
  port: number;
  maxStreams: number;
  graceSeconds: number;
  maxMessageBytes: number;
  warmDecoders: number;
  logLevel: string;
}

export function loadSpeechServerConfig(env: Env): SpeechServerConfig {
  const c = loadConfig(speechServerEnvSchema, env);
  return {
    host: c.SPEECH_SERVER_HOST,
    port: c.SPEECH_SERVER_PORT,
    maxStreams: c.SPEECH_SERVER_MAX_STREAMS,
    graceSeconds: c.SPEECH_SERVER_GRACE_SECONDS,
    maxMessageBytes: c.SPEECH_SERVER_MAX_MESSAGE_BYTES,
    warmDecoders: c.SPEECH_SERVER_WARM_DECODERS,
    logLevel: c.LOG_LEVEL,
  };
}
