// Original file: proto/riva/proto/riva_tts.proto


export interface _nvidia_riva_tts_RivaSynthesisConfigResponse_Config {
  'model_name'?: (string);
  'parameters'?: ({[key: string]: string});
}

export interface _nvidia_riva_tts_RivaSynthesisConfigResponse_Config__Output {
  'model_name'?: (string);
  'parameters'?: ({[key: string]: string});
}

export interface RivaSynthesisConfigResponse {
  'model_config'?: (_nvidia_riva_tts_RivaSynthesisConfigResponse_Config)[];
}

export interface RivaSynthesisConfigResponse__Output {
  'model_config': (_nvidia_riva_tts_RivaSynthesisConfigResponse_Config__Output)[];
}
