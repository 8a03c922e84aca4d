// Original file: proto/riva/proto/riva_asr.proto

import type { SpeechRecognitionResult as _nvidia_riva_asr_SpeechRecognitionResult, SpeechRecognitionResult__Output as _nvidia_riva_asr_SpeechRecognitionResult__Output } from '../../../nvidia/riva/asr/SpeechRecognitionResult.ts';
import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from '../../../nvidia/riva/RequestId.ts';

export interface RecognizeResponse {
  'results'?: (_nvidia_riva_asr_SpeechRecognitionResult)[];
  'id'?: (_nvidia_riva_RequestId | null);
}

export interface RecognizeResponse__Output {
  'results': (_nvidia_riva_asr_SpeechRecognitionResult__Output)[];
  'id'?: (_nvidia_riva_RequestId__Output);
}
