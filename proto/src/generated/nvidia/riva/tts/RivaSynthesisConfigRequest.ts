// Original file: proto/riva/proto/riva_tts.proto


export interface RivaSynthesisConfigRequest {
  'model_name'?: (string);
}

export interface RivaSynthesisConfigRequest__Output {
  'model_name'?: (string);
}
