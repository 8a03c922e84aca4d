// Original file: proto/riva/proto/riva_tts.proto


export interface SynthesizeSpeechResponseMetadata {
  'text'?: (string);
  'processed_text'?: (string);
  'predicted_durations'?: (number | string)[];
}

export interface SynthesizeSpeechResponseMetadata__Output {
  'text'?: (string);
  'processed_text'?: (string);
  'predicted_durations': (number)[];
}
