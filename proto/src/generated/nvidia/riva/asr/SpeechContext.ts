// Original file: proto/riva/proto/riva_asr.proto


export interface SpeechContext {
  'phrases'?: (string)[];
  'boost'?: (number | string);
}

export interface SpeechContext__Output {
  'phrases': (string)[];
  'boost'?: (number);
}
