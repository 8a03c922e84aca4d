// Original file: proto/riva/proto/riva_asr.proto


export interface _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse_Config {
  'model_name'?: (string);
  'parameters'?: ({[key: string]: string});
}

export interface _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse_Config__Output {
  'model_name'?: (string);
  'parameters'?: ({[key: string]: string});
}

export interface RivaSpeechRecognitionConfigResponse {
  'model_config'?: (_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse_Config)[];
}

export interface RivaSpeechRecognitionConfigResponse__Output {
  'model_config': (_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse_Config__Output)[];
}
