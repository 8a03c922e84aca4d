/**
 * The shared pino logger. JSON lines, static messages, and redaction of anything that can carry
 * personal data (transcript text, phone numbers, tokens, raw webhook bodies). Call sites put values
 * in fields; the paths below are censored wherever they appear (top level or one level deep).
 */
import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** Field names that may hold personal data or secrets. They are never written to logs. */
export const REDACTED_FIELDS = [
  'text',
  'transcript',
  'caller_text',
  'agent_text',
  'phone',
  'phoneNumber',
  'phone_number',
  'sipCallTo',
  'sipCallFrom',
  'authorization',
  'Authorization',
  'token',
  'apiKey',
  'api_key',
  'secret',
  'password',
  'turnPassword',
  'body',
  'payload',
  'email',
  'name',
  'identity',
] as const;

const redactPaths = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `req.headers.${f.toLowerCase()}`]);

export interface LoggerConfig {
  level: string;
  service: string;
  /** Optional destination (tests pass a stream to capture output). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { service: config.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: safeErrorSerializer },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}

/**
 * Errors are logged by name, code and message only. Stacks stay out of production logs because some
 * libraries put request data in them.
 */
export function safeErrorSerializer(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { type: err.name, message: err.message, ...(code !== undefined ? { code } : {}) };
  }
  return { type: typeof err };
}
