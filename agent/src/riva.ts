/**
 * Builds the Riva STT and TTS for one call from the agent's settings, with the plugin's observer wired
 * to the agent's Prometheus metrics.
 */
import { readFileSync } from 'node:fs';
import { STT, TTS } from '../plugins/riva/src/index.ts';
import type { AgentConfig } from './config.ts';
import type { AgentMetrics } from './metrics.ts';

export interface RivaSettings {
  url: string;
  tls: boolean;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  apiKey?: string;
  asrFunctionId?: string;
  ttsFunctionId?: string;
  language: string;
  asrModel?: string;
  ttsVoice: string;
  ttsSampleRate: number;
  /** Riva endpointing window (`stop_history`), ms. */
  endpointMs: number;
  /** No result from a stream that owes one for this long: reopen it (0 = never). */
  resultTimeoutMs: number;
  preflight: boolean;
  boostPhrases: string[];
}

export function rivaSettingsFromConfig(
  config: AgentConfig,
  url: string,
  boostPhrases: string[],
): RivaSettings {
  return {
    url,
    tls: config.RIVA_TLS,
    caFile: config.RIVA_CA_FILE,
    clientCertFile: config.RIVA_CLIENT_CERT_FILE,
    clientKeyFile: config.RIVA_CLIENT_KEY_FILE,
    apiKey: config.RIVA_API_KEY,
    asrFunctionId: config.RIVA_ASR_FUNCTION_ID,
    ttsFunctionId: config.RIVA_TTS_FUNCTION_ID,
    language: config.RIVA_LANGUAGE,
    asrModel: config.RIVA_ASR_MODEL,
    ttsVoice: config.RIVA_TTS_VOICE,
    ttsSampleRate: config.RIVA_TTS_SAMPLE_RATE,
    endpointMs: config.RIVA_ENDPOINT_MS,
    resultTimeoutMs: config.RIVA_RESULT_TIMEOUT_MS,
    preflight: config.RIVA_PREFLIGHT,
    boostPhrases,
  };
}

export interface RivaModels {
  stt: STT;
  tts: TTS;
}

export function createRivaModels(settings: RivaSettings, metrics?: AgentMetrics): RivaModels {
  const readPem = (file?: string) => (file ? readFileSync(file) : undefined);
  const base = {
    url: settings.url,
    tls: settings.tls,
    caCert: readPem(settings.caFile),
    clientCert: readPem(settings.clientCertFile),
    clientKey: readPem(settings.clientKeyFile),
    apiKey: settings.apiKey,
  };
  const observer = metrics
    ? {
        reconnect: () => metrics.rivaReconnects.inc(),
        audioDropped: (ms: number) => metrics.audioDroppedSeconds.inc(ms / 1000),
        asrFinalLatency: (seconds: number) => metrics.asrFinalLatency.observe(seconds),
        ttsFirstAudio: (seconds: number) => metrics.ttsFirstAudio.observe(seconds),
        streamError: () => metrics.error('riva_stream'),
      }
    : undefined;
  const stt = new STT({
    connection: { ...base, functionId: settings.asrFunctionId },
    language: settings.language,
    model: settings.asrModel,
    sampleRate: 16000,
    interimResults: true,
    punctuation: true,
    speechContexts:
      settings.boostPhrases.length > 0 ? [{ phrases: settings.boostPhrases, boost: 20 }] : undefined,
    endpointing: {
      stopHistoryMs: settings.endpointMs,
      // The two-pass early end of utterance fires a little before the final and drives preflight replies.
      stopHistoryEouMs: Math.max(100, Math.round(settings.endpointMs * 0.6)),
    },
    preflightOnEou: settings.preflight,
    resultTimeoutMs: settings.resultTimeoutMs,
    observer,
  });
  const tts = new TTS({
    connection: { ...base, functionId: settings.ttsFunctionId },
    voice: settings.ttsVoice,
    language: settings.language,
    sampleRate: settings.ttsSampleRate,
    observer,
  });
  return { stt, tts };
}
