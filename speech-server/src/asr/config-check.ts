/**
 * Validates a Riva RecognitionConfig and resolves the audio format, including the WAV-header case
 * (encoding and rate left at 0, RIFF header inside the first audio chunk), with Riva's status codes.
 */
import * as grpc from '@grpc/grpc-js';
import type { RecognitionConfig__Output } from '../../../proto/src/index.ts';
import { type AudioFormat, parseWavHeader, type SampleEncoding } from '../audio/codecs.ts';
import { invalidArgument, RpcError } from '../rpc.ts';
import { endpointSettings } from './endpointer.ts';
import type { RecognizerOptions, SpeechContextInput } from './recognizer.ts';

export const ASR_LANGUAGE = 'en-US';

export interface AsrModel {
  name: string;
  type: 'online' | 'offline';
}

/** The models GetRivaSpeechRecognitionConfig lists; both are the same PocketSphinx en-US decoder. */
export const ASR_MODELS: readonly AsrModel[] = [
  { name: 'pocketsphinx-en-US-asr-streaming', type: 'online' },
  { name: 'pocketsphinx-en-US-asr-offline', type: 'offline' },
];

export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 96_000;
const MAX_CHANNELS = 8;
/** How much of a stream's start we buffer while waiting for a complete WAV header. */
export const MAX_WAV_HEADER_BYTES = 64 * 1024;

/**
 * Riva 2.x's wording for a request no model serves (unknown language, model or sample rate), which
 * NVIDIA's clients print as-is and some callers match on, e.g.
 * `Error: Unavailable model requested given these parameters: language_code=es; sample_rate=16000; type=offline; `
 * (python-clients#62 and published client logs). Where Riva puts `model=` is not known; it goes last.
 */
function unavailableModel(language: string, rate: number, type: string, model?: string): RpcError {
  return invalidArgument(
    `Error: Unavailable model requested given these parameters: language_code=${language}; sample_rate=${rate}; type=${type}; ${
      model ? `model=${model}; ` : ''
    }`,
  );
}

/** Riva's text when the RIFF header disagrees with the config (nvidia-riva/tutorials#149). */
const HEADER_MISMATCH = "Error: config format doesn't match with header format";

export function checkLanguage(language: string | undefined, rate: number, type: 'online' | 'offline'): void {
  const lang = language ?? '';
  if (lang !== '' && lang.toLowerCase() !== 'en-us' && lang.toLowerCase() !== 'en') {
    throw unavailableModel(lang, rate, type);
  }
}

export interface CheckedConfig {
  /** Known format, or undefined when it must come from a WAV header in the first chunk. */
  format: AudioFormat | undefined;
  options: Omit<RecognizerOptions, 'format'>;
  /** enable_automatic_punctuation: finals are capitalised and end with . or ? (transcript.ts). */
  punctuation: boolean;
}

/** Validates everything that does not need audio. Throws RpcError. */
export function checkRecognitionConfig(
  config: RecognitionConfig__Output | undefined,
  type: 'online' | 'offline',
  interimResults: boolean,
): CheckedConfig {
  if (!config) throw invalidArgument('RecognitionConfig is required');
  const rate = config.sample_rate_hertz ?? 0;
  checkLanguage(config.language_code, rate, type);
  const model = config.model ?? '';
  if (model !== '' && !ASR_MODELS.some((m) => m.name === model)) {
    throw unavailableModel(config.language_code || ASR_LANGUAGE, rate, type, model);
  }
  const channels = config.audio_channel_count ?? 0;
  if (channels < 0 || channels > MAX_CHANNELS)
    throw invalidArgument(`audio_channel_count ${channels} is not supported`);
  // Riva answers a rate no model takes like any other unavailable model (it resamples the rest).
  if (rate !== 0 && (rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE)) {
    throw unavailableModel(config.language_code || ASR_LANGUAGE, rate, type);
  }
  const encoding = config.encoding ?? 'ENCODING_UNSPECIFIED';
  let format: AudioFormat | undefined;
  switch (encoding) {
    case 'LINEAR_PCM':
    case 'MULAW':
    case 'ALAW':
      // Rate 0 with an encoding: still possible if the audio starts with a WAV header.
      format = rate > 0 ? { encoding, sampleRate: rate, channels: Math.max(1, channels) } : undefined;
      break;
    case 'ENCODING_UNSPECIFIED':
      format = undefined;
      break;
    case 'FLAC':
    case 'OGGOPUS':
      throw new RpcError(grpc.status.UNIMPLEMENTED, `encoding ${encoding} is not supported by this server`);
    default:
      throw invalidArgument(`unknown audio encoding ${String(encoding)}`);
  }
  const speechContexts: SpeechContextInput[] = (config.speech_contexts ?? []).map((c) => ({
    phrases: (c.phrases ?? []).filter((p) => typeof p === 'string'),
    ...(typeof c.boost === 'number' ? { boost: c.boost } : {}),
  }));
  return {
    format,
    punctuation: config.enable_automatic_punctuation === true,
    options: {
      interimResults,
      wordTimeOffsets: config.enable_word_time_offsets === true,
      endpoint: endpointSettings(config.endpointing_config),
      speechContexts,
    },
  };
}

export type FirstChunk = { kind: 'ready'; format: AudioFormat; audio: Uint8Array } | { kind: 'need-more' };

/**
 * Resolves the format from the first audio bytes. A RIFF header sets it (its bytes are never decoded as
 * audio); a config that names a rate must agree with the header's, as Riva requires. Without a header
 * the config must have named encoding and rate.
 */
export function resolveFirstChunk(bytes: Uint8Array, configured: AudioFormat | undefined): FirstChunk {
  const wav = parseWavHeader(bytes);
  switch (wav.kind) {
    case 'wav':
      // Only the rate is compared: NVIDIA's scripts copy the rate from the header but leave the
      // encoding at their LINEAR_PCM default, even for a mu-law file, and the header is what is decoded.
      if (configured && configured.sampleRate !== wav.format.sampleRate)
        throw invalidArgument(HEADER_MISMATCH);
      if (wav.format.sampleRate < MIN_SAMPLE_RATE || wav.format.sampleRate > MAX_SAMPLE_RATE) {
        throw invalidArgument(`WAV sample rate ${wav.format.sampleRate} is not supported`);
      }
      if (wav.format.channels > MAX_CHANNELS) throw invalidArgument('WAV has too many channels');
      return { kind: 'ready', format: wav.format, audio: bytes.subarray(wav.dataOffset) };
    case 'incomplete':
      if (bytes.length > MAX_WAV_HEADER_BYTES) throw invalidArgument('WAV header too large');
      return { kind: 'need-more' };
    case 'unsupported':
      throw invalidArgument(`unsupported WAV audio: ${wav.reason}`);
    case 'not-wav':
      if (!configured) {
        throw invalidArgument(
          'encoding and sample_rate_hertz are required unless the audio starts with a WAV header',
        );
      }
      return { kind: 'ready', format: configured, audio: bytes };
  }
}

/** LINEAR_PCM chunks must hold whole samples. */
export function checkChunk(bytes: Uint8Array, format: AudioFormat): void {
  if (format.encoding === 'LINEAR_PCM' && bytes.length % 2 !== 0) {
    throw invalidArgument('LINEAR_PCM audio_content must have an even number of bytes (16-bit samples)');
  }
}

export function isSupportedEncoding(e: string): e is SampleEncoding {
  return e === 'LINEAR_PCM' || e === 'MULAW' || e === 'ALAW';
}
