/**
 * STT options: one typed object, defaults, validation at construction (a bad value fails at start with
 * an error naming it, not minutes later inside a call), and the Riva `RecognitionConfig` built from it.
 */
import type { RecognitionConfig, StreamingRecognitionConfig } from '../../../../proto/src/index.ts';
import type { RivaChannel, RivaConnectionOptions } from './channel.ts';
import type { STTLanguages, STTModels } from './models.ts';
import type { RivaObserver } from './observer.ts';
import { check } from './validate.ts';

export interface EndpointingOptions {
  /** ms of speech needed to start an utterance (`start_history`). */
  startHistoryMs?: number;
  startThreshold?: number;
  /** ms of silence that ends an utterance (`stop_history`); the main knob for end-of-turn latency. */
  stopHistoryMs?: number;
  stopThreshold?: number;
  /** Two-pass EOU: after this many ms (< stopHistoryMs) Riva emits a stability-1.0 interim. */
  stopHistoryEouMs?: number;
  stopThresholdEou?: number;
}

export interface ReconnectOptions {
  /** Consecutive failed attempts before giving up (Infinity = never). Reset by any healthy stream. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface STTOptions {
  /** Riva server (options, or a shared `RivaChannel`). */
  connection: RivaConnectionOptions | RivaChannel;
  language: STTLanguages | (string & {});
  /** ASR model name; empty = the server picks one for the language. */
  model?: STTModels | (string & {});
  /** Rate sent to Riva; input frames of any other rate (8 kHz telephony too) are resampled to it. */
  sampleRate: number;
  interimResults: boolean;
  punctuation: boolean;
  profanityFilter: boolean;
  /** true = no inverse text normalisation ("twenty" stays a word). */
  verbatimTranscripts: boolean;
  wordTimeOffsets: boolean;
  maxAlternatives: number;
  diarization?: { maxSpeakers: number };
  /** Word boosting: phrases and a boost (NIM suggests 20–100). */
  speechContexts?: { phrases: string[]; boost: number }[];
  endpointing?: EndpointingOptions;
  /** Surface Riva's stability-1.0 interim (two-pass EOU) as PREFLIGHT_TRANSCRIPT. */
  preflightOnEou: boolean;
  customConfiguration?: Record<string, string>;
  /** Audio chunk size written to Riva. */
  chunkMs: number;
  /** Max audio since the last final kept for replay after a reconnect. */
  replayBufferMs: number;
  /** Max audio held while reconnecting; older audio is dropped and reported. */
  maxBufferedAudioMs: number;
  /** Send silence when no audio was sent for this long (Riva times idle streams out); 0 disables. */
  keepaliveIntervalMs: number;
  /**
   * Result watchdog: a stream owed a result (speech sent, or an utterance open) that gets no response of
   * any kind for this long, in both wall time and sent audio, is stalled: it is cancelled and reopened
   * with replay like a dropped one (reconnect reason `stalled`). Silence alone never trips it. 0 disables.
   */
  resultTimeoutMs: number;
  reconnect: ReconnectOptions;
  observer?: RivaObserver;
}

export type STTInit = Partial<Omit<STTOptions, 'reconnect'>> & {
  connection: STTOptions['connection'];
  reconnect?: Partial<ReconnectOptions>;
};

export const defaultSTTOptions: Omit<STTOptions, 'connection'> = {
  language: 'en-US',
  sampleRate: 16000,
  interimResults: true,
  punctuation: true,
  profanityFilter: false,
  verbatimTranscripts: false,
  wordTimeOffsets: true,
  maxAlternatives: 1,
  preflightOnEou: false,
  chunkMs: 100,
  replayBufferMs: 15_000,
  maxBufferedAudioMs: 30_000,
  keepaliveIntervalMs: 5_000,
  resultTimeoutMs: 8_000,
  reconnect: { maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 100, maxDelayMs: 5_000 },
};

const L = 'riva.STT';

/** Merges defaults and validates; throws `riva.STT: invalid option "x": …`. */
export function resolveSTTOptions(init: STTInit): STTOptions {
  if (!init || typeof init !== 'object') throw new Error(`${L}: options are required ({ connection, ... })`);
  const o: STTOptions = {
    ...defaultSTTOptions,
    ...stripUndefined(init),
    reconnect: { ...defaultSTTOptions.reconnect, ...stripUndefined(init.reconnect ?? {}) },
  } as STTOptions;
  if (!o.connection) throw new Error(`${L}: invalid option "connection": required`);
  check(L, 'language', o.language).nonEmptyString();
  if (o.model !== undefined) check(L, 'model', o.model).string();
  check(L, 'sampleRate', o.sampleRate).int(8000, 48000);
  check(L, 'interimResults', o.interimResults).bool();
  check(L, 'punctuation', o.punctuation).bool();
  check(L, 'profanityFilter', o.profanityFilter).bool();
  check(L, 'verbatimTranscripts', o.verbatimTranscripts).bool();
  check(L, 'wordTimeOffsets', o.wordTimeOffsets).bool();
  check(L, 'preflightOnEou', o.preflightOnEou).bool();
  check(L, 'maxAlternatives', o.maxAlternatives).int(1, 10);
  check(L, 'chunkMs', o.chunkMs).int(10, 1000);
  check(L, 'replayBufferMs', o.replayBufferMs).int(0, 600_000);
  check(L, 'maxBufferedAudioMs', o.maxBufferedAudioMs).int(o.chunkMs, 3_600_000);
  check(L, 'keepaliveIntervalMs', o.keepaliveIntervalMs).int(0, 600_000);
  check(L, 'resultTimeoutMs', o.resultTimeoutMs).int(0, 600_000);
  if (o.reconnect.maxAttempts !== Number.POSITIVE_INFINITY) {
    check(L, 'reconnect.maxAttempts', o.reconnect.maxAttempts).int(0, 1_000_000);
  }
  check(L, 'reconnect.initialDelayMs', o.reconnect.initialDelayMs).int(0, 60_000);
  check(L, 'reconnect.maxDelayMs', o.reconnect.maxDelayMs).int(o.reconnect.initialDelayMs, 600_000);
  if (o.diarization !== undefined) check(L, 'diarization.maxSpeakers', o.diarization.maxSpeakers).int(1, 32);
  if (o.speechContexts !== undefined) {
    if (!Array.isArray(o.speechContexts))
      throw new Error(`${L}: invalid option "speechContexts": expected an array`);
    o.speechContexts.forEach((c, i) => {
      if (!Array.isArray(c?.phrases) || c.phrases.some((p) => typeof p !== 'string' || !p.trim())) {
        throw new Error(`${L}: invalid option "speechContexts[${i}].phrases": expected non-empty strings`);
      }
      check(L, `speechContexts[${i}].boost`, c.boost).num(-100, 1000);
    });
  }
  const ep = o.endpointing;
  if (ep !== undefined) {
    for (const k of ['startHistoryMs', 'stopHistoryMs', 'stopHistoryEouMs'] as const) {
      if (ep[k] !== undefined) check(L, `endpointing.${k}`, ep[k]).int(0, 60_000);
    }
    for (const k of ['startThreshold', 'stopThreshold', 'stopThresholdEou'] as const) {
      if (ep[k] !== undefined) check(L, `endpointing.${k}`, ep[k]).num(0, 1);
    }
  }
  if (o.customConfiguration !== undefined) {
    for (const [k, v] of Object.entries(o.customConfiguration)) {
      if (typeof v !== 'string')
        throw new Error(`${L}: invalid option "customConfiguration.${k}": expected a string`);
    }
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The `RecognitionConfig` for these options (LINEAR_PCM mono at `sampleRate`). */
export function buildRecognitionConfig(o: STTOptions, sampleRate: number = o.sampleRate): RecognitionConfig {
  // Only non-default values are set: protobufjs would otherwise put explicit zeros/falses on the wire,
  // which is legal but not the canonical proto3 encoding NVIDIA's own clients produce.
  const config: RecognitionConfig = {
    encoding: 'LINEAR_PCM',
    sample_rate_hertz: sampleRate,
    language_code: o.language,
    max_alternatives: o.maxAlternatives,
    audio_channel_count: 1,
  };
  if (o.profanityFilter) config.profanity_filter = true;
  if (o.wordTimeOffsets) config.enable_word_time_offsets = true;
  if (o.punctuation) config.enable_automatic_punctuation = true;
  if (o.verbatimTranscripts) config.verbatim_transcripts = true;
  if (o.model) config.model = o.model;
  if (o.speechContexts?.length) {
    config.speech_contexts = o.speechContexts.map((c) => ({ phrases: [...c.phrases], boost: c.boost }));
  }
  if (o.diarization) {
    config.diarization_config = {
      enable_speaker_diarization: true,
      max_speaker_count: o.diarization.maxSpeakers,
    };
  }
  if (o.customConfiguration && Object.keys(o.customConfiguration).length > 0) {
    config.custom_configuration = { ...o.customConfiguration };
  }
  const ep = o.endpointing;
  if (ep) {
    // Fields are proto3 `optional`: only what the user set is sent, so Riva keeps its build defaults otherwise.
    const e: NonNullable<RecognitionConfig['endpointing_config']> = {};
    if (ep.startHistoryMs !== undefined) e.start_history = ep.startHistoryMs;
    if (ep.startThreshold !== undefined) e.start_threshold = ep.startThreshold;
    if (ep.stopHistoryMs !== undefined) e.stop_history = ep.stopHistoryMs;
    if (ep.stopThreshold !== undefined) e.stop_threshold = ep.stopThreshold;
    if (ep.stopHistoryEouMs !== undefined) e.stop_history_eou = ep.stopHistoryEouMs;
    if (ep.stopThresholdEou !== undefined) e.stop_threshold_eou = ep.stopThresholdEou;
    if (Object.keys(e).length > 0) config.endpointing_config = e;
  }
  return config;
}

export function buildStreamingConfig(o: STTOptions): StreamingRecognitionConfig {
  const c: StreamingRecognitionConfig = { config: buildRecognitionConfig(o) };
  if (o.interimResults) c.interim_results = true;
  return c;
}
