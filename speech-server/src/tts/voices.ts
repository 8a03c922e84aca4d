/**
 * Riva voice names mapped to the flite voices that ship in Debian's `flite` package. `rms` is the
 * default because the local PocketSphinx recogniser understands it best (5 % WER vs 15 % for slt),
 * which keeps TTS -> ASR loopback tests meaningful.
 */
import { invalidArgument } from '../rpc.ts';

export const TTS_LANGUAGE = 'en-US';
export const TTS_MODEL_NAME = 'flite-English-US';
/** Riva voice names are `<voice_name>.<subvoice>`; talk.py --list-voices builds them that way. */
export const VOICE_PREFIX = 'English-US';

export interface Voice {
  /** Riva subvoice, e.g. `Male-1`. */
  subvoice: string;
  /** flite -voice argument. */
  flite: string;
}

export const VOICES: readonly Voice[] = [
  { subvoice: 'Male-1', flite: 'rms' },
  { subvoice: 'Female-1', flite: 'slt' },
  { subvoice: 'Male-2', flite: 'awb' },
  { subvoice: 'Male-3', flite: 'kal16' },
];

export const DEFAULT_VOICE = VOICES[0]!;

export function fullVoiceName(v: Voice): string {
  return `${VOICE_PREFIX}.${v.subvoice}`;
}

/** Resolves a request's voice_name (full name or bare subvoice, any case); empty = default. */
export function resolveVoice(name: string | undefined): Voice {
  const wanted = (name ?? '').trim().toLowerCase();
  if (wanted === '') return DEFAULT_VOICE;
  const voice = VOICES.find(
    (v) => fullVoiceName(v).toLowerCase() === wanted || v.subvoice.toLowerCase() === wanted,
  );
  if (!voice) {
    throw invalidArgument(
      `Error: Unavailable voice requested: voice_name=${name}; available: ${VOICES.map(fullVoiceName).join(', ')}`,
    );
  }
  return voice;
}
