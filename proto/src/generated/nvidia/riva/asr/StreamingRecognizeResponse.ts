// Original file: proto/riva/proto/riva_asr.proto

import type { StreamingRecognitionResult as _nvidia_riva_asr_StreamingRecognitionResult, StreamingRecognitionResult__Output as _nvidia_riva_asr_StreamingRecognitionResult__Output } from '../../../nvidia/riva/asr/StreamingRecognitionResult.ts';
import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from '../../../nvidia/riva/RequestId.ts';

export interface StreamingRecognizeResponse {
  'results'?: (_nvidia_riva_asr_StreamingRecognitionResult)[];
  'id'?: (_nvidia_riva_RequestId | null);
}

export interface StreamingRecognizeResponse__Output {
  'results': (_nvidia_riva_asr_StreamingRecognitionResult__Output)[];
  'id'?: (_nvidia_riva_RequestId__Output);
}
