/**
 * The speech server's configuration, read once from the environment by main.ts (the only place that
 * passes process.env). Names and defaults match docs/development.md.
 */
import { z } from 'zod';
import { type Env, envFields, loadConfig } from '../../common/src/config.ts';

const optionalFile = () => z.string().min(1).optional();

export const speechServerEnvSchema = z
  .object({
    SPEECH_SERVER_HOST: z.string().default('127.0.0.1'),
    SPEECH_SERVER_PORT: envFields.port(50051),
    SPEECH_SERVER_MAX_STREAMS: envFields.positiveInt(8),
    SPEECH_SERVER_GRACE_SECONDS: envFields.nonNegativeInt(10),
    /** Largest gRPC message accepted or sent (Riva's and gRPC's default is 4 MiB). */
    SPEECH_SERVER_MAX_MESSAGE_BYTES: envFields.positiveInt(4 * 1024 * 1024),
    /** Decoders kept loaded for new streams; 0 loads one per stream on demand. */
    SPEECH_SERVER_WARM_DECODERS: envFields.nonNegativeInt(2),
    /** A stream that sends nothing for this long is ended (Riva's sequence idle default is 60 s). */
    SPEECH_SERVER_IDLE_TIMEOUT_MS: envFields.positiveInt(60_000),
    /** Server HTTP/2 pings on every connection; a peer that does not answer within the timeout is dropped. */
    SPEECH_SERVER_KEEPALIVE_MS: envFields.positiveInt(30_000),
    SPEECH_SERVER_KEEPALIVE_TIMEOUT_MS: envFields.positiveInt(10_000),
    /** PEM certificate chain and key: both set turns TLS on. */
    SPEECH_SERVER_TLS_CERT_FILE: optionalFile(),
    SPEECH_SERVER_TLS_KEY_FILE: optionalFile(),
    /** PEM CA bundle: clients must present a certificate it signed (mTLS). Needs TLS on. */
    SPEECH_SERVER_TLS_CLIENT_CA_FILE: optionalFile(),
    LOG_LEVEL: envFields.logLevel(),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.SPEECH_SERVER_TLS_CERT_FILE) !== Boolean(c.SPEECH_SERVER_TLS_KEY_FILE)) {
      const missing = c.SPEECH_SERVER_TLS_CERT_FILE
        ? 'SPEECH_SERVER_TLS_KEY_FILE'
        : 'SPEECH_SERVER_TLS_CERT_FILE';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'TLS needs both a certificate and a key file',
      });
    }
    if (c.SPEECH_SERVER_TLS_CLIENT_CA_FILE && !c.SPEECH_SERVER_TLS_CERT_FILE) {
      ctx.addIssue({
        code: 'custom',
        path: ['SPEECH_SERVER_TLS_CLIENT_CA_FILE'],
        message: 'client verification needs SPEECH_SERVER_TLS_CERT_FILE and SPEECH_SERVER_TLS_KEY_FILE',
      });
    }
  });

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile: string | undefined;
}

export interface SpeechServerConfig {
  host: string;
  port: number;
  maxStreams: number;
  graceSeconds: number;
  maxMessageBytes: number;
  warmDecoders: number;
  idleTimeoutMs: number;
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  tlsFiles: TlsFiles | undefined;
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
    idleTimeoutMs: c.SPEECH_SERVER_IDLE_TIMEOUT_MS,
    keepaliveMs: c.SPEECH_SERVER_KEEPALIVE_MS,
    keepaliveTimeoutMs: c.SPEECH_SERVER_KEEPALIVE_TIMEOUT_MS,
    tlsFiles:
      c.SPEECH_SERVER_TLS_CERT_FILE && c.SPEECH_SERVER_TLS_KEY_FILE
        ? {
            certFile: c.SPEECH_SERVER_TLS_CERT_FILE,
            keyFile: c.SPEECH_SERVER_TLS_KEY_FILE,
            clientCaFile: c.SPEECH_SERVER_TLS_CLIENT_CA_FILE,
          }
        : undefined,
    logLevel: c.LOG_LEVEL,
  };
}
