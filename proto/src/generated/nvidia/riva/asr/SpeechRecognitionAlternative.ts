// Original file: proto/riva/proto/riva_asr.proto

import type { WordInfo as _nvidia_riva_asr_WordInfo, WordInfo__Output as _nvidia_riva_asr_WordInfo__Output } from '../../../nvidia/riva/asr/WordInfo.ts';

export interface SpeechRecognitionAlternative {
  'transcript'?: (string);
  'confidence'?: (number | string);
  'words'?: (_nvidia_riva_asr_WordInfo)[];
  'language_code'?: (string)[];
}

export interface SpeechRecognitionAlternative__Output {
  'transcript'?: (string);
  'confidence'?: (number);
  'words': (_nvidia_riva_asr_WordInfo__Output)[];
  'language_code': (string)[];
}
