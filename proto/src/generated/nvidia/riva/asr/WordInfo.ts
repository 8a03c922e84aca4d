// Original file: proto/riva/proto/riva_asr.proto


export interface WordInfo {
  'start_time'?: (number);
  'end_time'?: (number);
  'word'?: (string);
  'confidence'?: (number | string);
  'speaker_tag'?: (number);
  'language_code'?: (string);
}

export interface WordInfo__Output {
  'start_time'?: (number);
  'end_time'?: (number);
  'word'?: (string);
  'confidence'?: (number);
  'speaker_tag'?: (number);
  'language_code'?: (string);
}
