// Original file: proto/riva/proto/riva_asr.proto


export interface PipelineStates {
  'vad_probabilities'?: (number | string)[];
}

export interface PipelineStates__Output {
  'vad_probabilities': (number)[];
}
