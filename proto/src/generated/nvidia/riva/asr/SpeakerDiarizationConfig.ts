// Original file: proto/riva/proto/riva_asr.proto


export interface SpeakerDiarizationConfig {
  'enable_speaker_diarization'?: (boolean);
  'max_speaker_count'?: (number);
}

export interface SpeakerDiarizationConfig__Output {
  'enable_speaker_diarization'?: (boolean);
  'max_speaker_count'?: (number);
}
