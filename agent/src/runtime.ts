/**
 * Glue shared by the entry points: call settings from config, and the framework's logger made safe.
 *
 * @livekit/agents logs transcripts, identities and room names in `lk.pii.*` fields (at debug level).
 * Our logs never carry transcript text or phone numbers, so the framework's global pino logger is
 * replaced by one that drops every `lk.pii.*` field before it is written, at any level.
 */
import type { VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { pino } from 'pino';
import type { CallSettings } from './call-session.ts';
import type { AgentConfig } from './config.ts';

export function callSettingsFromConfig(config: AgentConfig): CallSettings {
  return {
    turnDetection: config.TURN_DETECTION,
    endpointSilenceMs: config.ENDPOINT_SILENCE_MS,
    interruptMinSpeechMs: config.INTERRUPT_MIN_SPEECH_MS,
    preemptiveGeneration: config.RIVA_PREFLIGHT,
    silencePromptMs: config.SILENCE_PROMPT_SECONDS * 1000,
    silenceReleaseMs: config.SILENCE_RELEASE_SECONDS * 1000,
    historyItems: config.HISTORY_ITEMS,
  };
}

/** Silero VAD as every call uses it (16 kHz; end of speech after `endpointSilenceMs`). Load once per process. */
export function loadCallVad(settings: Pick<CallSettings, 'endpointSilenceMs'>): Promise<VAD> {
  return silero.VAD.load({ minSilenceDuration: settings.endpointSilenceMs, sampleRate: 16000 });
}

const LOGGER_KEY = Symbol.for('@livekit/agents:logger');
const LOGGER_OPTIONS_KEY = Symbol.for('@livekit/agents:loggerOptions');

export function stripPiiFields(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!key.startsWith('lk.pii.')) out[key] = value;
  }
  return out;
}

/** Installs the framework's logger (JSON lines on stdout) with `lk.pii.*` fields removed. */
export function initAgentsLogger(level: string): void {
  const logger = pino({
    level,
    base: { service: 'agent', component: 'livekit-agents' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }), log: stripPiiFields },
  });
  const globals = globalThis as unknown as Record<symbol, unknown>;
  globals[LOGGER_KEY] = logger;
  globals[LOGGER_OPTIONS_KEY] = { pretty: false, level };
}
