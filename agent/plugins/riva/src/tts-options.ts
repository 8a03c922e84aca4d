/** TTS options: one typed object, defaults and validation at construction. */
import type { SynthesizeSpeechRequest } from '../../../../proto/src/index.ts';
import type { RivaChannel, RivaConnectionOptions } from './channel.ts';
import type { TTSEncoding, TTSLanguages, TTSVoices } from './models.ts';
import type { RivaObserver } from './observer.ts';
import { check } from './validate.ts';

export interface TTSOptions {
  connection: RivaConnectionOptions | RivaChannel;
  /** Riva voice name; empty = the server's default for the language. */
  voice: TTSVoices | (string & {});
  language: TTSLanguages | (string & {});
  /** Output rate asked of Riva and given to the framework (8000 for SIP is fine). */
  sampleRate: number;
  encoding: TTSEncoding;
  /**
   * Pronunciations: Riva's string form (`"NVIDIA  EH1 N V IH1 D IY0 AH0,Riva  R IY1 V AH0"`) or a map
   * grapheme → phonemes (IPA for Magpie/NIM).
   */
  customDictionary?: string | Record<string, string>;
  /** On UNIMPLEMENTED from `SynthesizeOnline`, use unary `Synthesize` (for servers without streaming). */
  unaryFallback: boolean;
  /** Longest text sent in one request; longer sentences are split at word boundaries (Magpie likes ≤ 200). */
  maxChunkChars: number;
  /** Cancel a request that produced no audio for this long (ms): before its first chunk, or between chunks. */
  firstAudioTimeoutMs: number;
  /** SynthesizeStream: how many sentence requests may run ahead of playback (1 = strictly sequential). */
  prefetch: number;
  observer?: RivaObserver;
}

export type TTSInit = Partial<TTSOptions> & { connection: TTSOptions['connection'] };

export const defaultTTSOptions: Omit<TTSOptions, 'connection'> = {
  voice: 'English-US.Female-1',
  language: 'en-US',
  sampleRate: 16000,
  encoding: 'LINEAR_PCM',
  unaryFallback: true,
  maxChunkChars: 200,
  firstAudioTimeoutMs: 10_000,
  prefetch: 2,
};

const L = 'riva.TTS';

export function resolveTTSOptions(init: TTSInit): TTSOptions {
  if (!init || typeof init !== 'object') throw new Error(`${L}: options are required ({ connection, ... })`);
  const defined = Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined));
  const o = { ...defaultTTSOptions, ...defined } as TTSOptions;
  if (!o.connection) throw new Error(`${L}: invalid option "connection": required`);
  check(L, 'voice', o.voice).string();
  check(L, 'language', o.language).nonEmptyString();
  check(L, 'sampleRate', o.sampleRate).int(8000, 48000);
  check(L, 'encoding', o.encoding).oneOf(['LINEAR_PCM']);
  check(L, 'unaryFallback', o.unaryFallback).bool();
  check(L, 'maxChunkChars', o.maxChunkChars).int(20, 100_000);
  check(L, 'firstAudioTimeoutMs', o.firstAudioTimeoutMs).int(1, 600_000);
  check(L, 'prefetch', o.prefetch).int(1, 8);
  const d = o.customDictionary;
  if (d !== undefined && typeof d !== 'string') {
    if (typeof d !== 'object' || d === null) {
      throw new Error(`${L}: invalid option "customDictionary": expected a string or an object`);
    }
    for (const [k, v] of Object.entries(d)) {
      if (typeof v !== 'string' || !k.trim() || !v.trim()) {
        throw new Error(`${L}: invalid option "customDictionary.${k}": expected non-empty phonemes`);
      }
    }
  }
  return o;
}

/** Riva's dictionary format: entries joined by commas, two spaces between grapheme and phonemes. */
export function dictionaryString(d: TTSOptions['customDictionary']): string | undefined {
  if (d === undefined) return undefined;
  if (typeof d === 'string') return d || undefined;
  const entries = Object.entries(d).map(([g, p]) => `${g.trim()}  ${p.trim()}`);
  return entries.length > 0 ? entries.join(',') : undefined;
}

/** One request; text that starts with `<speak` goes through untouched as SSML. */
export function buildSynthesisRequest(o: TTSOptions, text: string): SynthesizeSpeechRequest {
  const req: SynthesizeSpeechRequest = {
    text,
    language_code: o.language,
    encoding: o.encoding,
    sample_rate_hz: o.sampleRate,
  };
  // Empty = the server's default voice for the language; leave it off the wire.
  if (o.voice) req.voice_name = o.voice;
  const dict = dictionaryString(o.customDictionary);
  if (dict) req.custom_dictionary = dict;
  return req;
}

export const isSsml = (text: string): boolean => /^\s*<speak[\s>]/i.test(text);
