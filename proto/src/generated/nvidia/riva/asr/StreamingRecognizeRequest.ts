// Original file: proto/riva/proto/riva_asr.proto

import type { StreamingRecognitionConfig as _nvidia_riva_asr_StreamingRecognitionConfig, StreamingRecognitionConfig__Output as _nvidia_riva_asr_StreamingRecognitionConfig__Output } from '../../../nvidia/riva/asr/StreamingRecognitionConfig.ts';
import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from '../../../nvidia/riva/RequestId.ts';

export interface StreamingRecognizeRequest {
  'streaming_config'?: (_nvidia_riva_asr_StreamingRecognitionConfig | null);
  'audio_content'?: (Buffer | Uint8Array | string);
  'id'?: (_nvidia_riva_RequestId | null);
  'streaming_request'?: "streaming_config"|"audio_content";
}

export interface StreamingRecognizeRequest__Output {
  'streaming_config'?: (_nvidia_riva_asr_StreamingRecognitionConfig__Output);
  'audio_content'?: (Buffer);
  'id'?: (_nvidia_riva_RequestId__Output);
  'streaming_request'?: "streaming_config"|"audio_content";
}
