// Original file: proto/riva/proto/riva_asr.proto


export interface RivaSpeechRecognitionConfigRequest {
  'model_name'?: (string);
}

export interface RivaSpeechRecognitionConfigRequest__Output {
  'model_name'?: (string);
}
