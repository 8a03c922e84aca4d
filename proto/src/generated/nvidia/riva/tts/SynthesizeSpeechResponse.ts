// Original file: proto/riva/proto/riva_tts.proto

import type { SynthesizeSpeechResponseMetadata as _nvidia_riva_tts_SynthesizeSpeechResponseMetadata, SynthesizeSpeechResponseMetadata__Output as _nvidia_riva_tts_SynthesizeSpeechResponseMetadata__Output } from '../../../nvidia/riva/tts/SynthesizeSpeechResponseMetadata.ts';
import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from '../../../nvidia/riva/RequestId.ts';

export interface SynthesizeSpeechResponse {
  'audio'?: (Buffer | Uint8Array | string);
  'meta'?: (_nvidia_riva_tts_SynthesizeSpeechResponseMetadata | null);
  'id'?: (_nvidia_riva_RequestId | null);
}

export interface SynthesizeSpeechResponse__Output {
  'audio'?: (Buffer);
  'meta'?: (_nvidia_riva_tts_SynthesizeSpeechResponseMetadata__Output);
  'id'?: (_nvidia_riva_RequestId__Output);
}
