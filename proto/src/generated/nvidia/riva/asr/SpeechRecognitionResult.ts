// Original file: proto/riva/proto/riva_asr.proto

import type { SpeechRecognitionAlternative as _nvidia_riva_asr_SpeechRecognitionAlternative, SpeechRecognitionAlternative__Output as _nvidia_riva_asr_SpeechRecognitionAlternative__Output } from '../../../nvidia/riva/asr/SpeechRecognitionAlternative.ts';

export interface SpeechRecognitionResult {
  'alternatives'?: (_nvidia_riva_asr_SpeechRecognitionAlternative)[];
  'channel_tag'?: (number);
  'audio_processed'?: (number | string);
}

export interface SpeechRecognitionResult__Output {
  'alternatives': (_nvidia_riva_asr_SpeechRecognitionAlternative__Output)[];
  'channel_tag'?: (number);
  'audio_processed'?: (number);
}
