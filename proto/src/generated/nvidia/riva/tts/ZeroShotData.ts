// Original file: proto/riva/proto/riva_tts.proto

import type { AudioEncoding as _nvidia_riva_AudioEncoding, AudioEncoding__Output as _nvidia_riva_AudioEncoding__Output } from '../../../nvidia/riva/AudioEncoding.ts';

export interface ZeroShotData {
  'audio_prompt'?: (Buffer | Uint8Array | string);
  'sample_rate_hz'?: (number);
  'encoding'?: (_nvidia_riva_AudioEncoding);
  'quality'?: (number);
  'transcript'?: (string);
}

export interface ZeroShotData__Output {
  'audio_prompt'?: (Buffer);
  'sample_rate_hz'?: (number);
  'encoding'?: (_nvidia_riva_AudioEncoding__Output);
  'quality'?: (number);
  'transcript'?: (string);
}
