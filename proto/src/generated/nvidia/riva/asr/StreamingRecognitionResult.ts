// Original file: proto/riva/proto/riva_asr.proto

import type { SpeechRecognitionAlternative as _nvidia_riva_asr_SpeechRecognitionAlternative, SpeechRecognitionAlternative__Output as _nvidia_riva_asr_SpeechRecognitionAlternative__Output } from '../../../nvidia/riva/asr/SpeechRecognitionAlternative.ts';
import type { PipelineStates as _nvidia_riva_asr_PipelineStates, PipelineStates__Output as _nvidia_riva_asr_PipelineStates__Output } from '../../../nvidia/riva/asr/PipelineStates.ts';

export interface StreamingRecognitionResult {
  'alternatives'?: (_nvidia_riva_asr_SpeechRecognitionAlternative)[];
  'is_final'?: (boolean);
  'stability'?: (number | string);
  'channel_tag'?: (number);
  'audio_processed'?: (number | string);
  'pipeline_states'?: (_nvidia_riva_asr_PipelineStates | null);
  '_pipeline_states'?: "pipeline_states";
}

export interface StreamingRecognitionResult__Output {
  'alternatives': (_nvidia_riva_asr_SpeechRecognitionAlternative__Output)[];
  'is_final'?: (boolean);
  'stability'?: (number);
  'channel_tag'?: (number);
  'audio_processed'?: (number);
  'pipeline_states'?: (_nvidia_riva_asr_PipelineStates__Output);
  '_pipeline_states'?: "pipeline_states";
}
