// Original file: proto/riva/proto/riva_asr.proto

import type { RecognitionConfig as _nvidia_riva_asr_RecognitionConfig, RecognitionConfig__Output as _nvidia_riva_asr_RecognitionConfig__Output } from '../../../nvidia/riva/asr/RecognitionConfig.ts';

export interface StreamingRecognitionConfig {
  'config'?: (_nvidia_riva_asr_RecognitionConfig | null);
  'interim_results'?: (boolean);
}

export interface StreamingRecognitionConfig__Output {
  'config'?: (_nvidia_riva_asr_RecognitionConfig__Output);
  'interim_results'?: (boolean);
}
