// Original file: proto/riva/proto/riva_tts.proto

import type { AudioEncoding as _nvidia_riva_AudioEncoding, AudioEncoding__Output as _nvidia_riva_AudioEncoding__Output } from '../../../nvidia/riva/AudioEncoding.ts';
import type { ZeroShotData as _nvidia_riva_tts_ZeroShotData, ZeroShotData__Output as _nvidia_riva_tts_ZeroShotData__Output } from '../../../nvidia/riva/tts/ZeroShotData.ts';
import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from '../../../nvidia/riva/RequestId.ts';

export interface SynthesizeSpeechRequest {
  'text'?: (string);
  'language_code'?: (string);
  'encoding'?: (_nvidia_riva_AudioEncoding);
  'sample_rate_hz'?: (number);
  'voice_name'?: (string);
  'zero_shot_data'?: (_nvidia_riva_tts_ZeroShotData | null);
  'custom_dictionary'?: (string);
  'id'?: (_nvidia_riva_RequestId | null);
}

export interface SynthesizeSpeechRequest__Output {
  'text'?: (string);
  'language_code'?: (string);
  'encoding'?: (_nvidia_riva_AudioEncoding__Output);
  'sample_rate_hz'?: (number);
  'voice_name'?: (string);
  'zero_shot_data'?: (_nvidia_riva_tts_ZeroShotData__Output);
  'custom_dictionary'?: (string);
  'id'?: (_nvidia_riva_RequestId__Output);
}
