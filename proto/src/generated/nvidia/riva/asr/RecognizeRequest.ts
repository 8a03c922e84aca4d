// Original file: proto/riva/proto/riva_asr.proto

import type { RecognitionConfig as _nvidia_riva_asr_RecognitionConfig, RecognitionConfig__Output as _nvidia_riva_asr_RecognitionConfig__Output } from '../../../nvidia/riva/asr/RecognitionConfig.ts';
import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from '../../../nvidia/riva/RequestId.ts';

export interface RecognizeRequest {
  'config'?: (_nvidia_riva_asr_RecognitionConfig | null);
  'audio'?: (Buffer | Uint8Array | string);
  'id'?: (_nvidia_riva_RequestId | null);
}

export interface RecognizeRequest__Output {
  'config'?: (_nvidia_riva_asr_RecognitionConfig__Output);
  'audio'?: (Buffer);
  'id'?: (_nvidia_riva_RequestId__Output);
}
