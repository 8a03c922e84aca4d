// Original file: proto/riva/proto/riva_asr.proto


export interface EndpointingConfig {
  'start_history'?: (number);
  'start_threshold'?: (number | string);
  'stop_history'?: (number);
  'stop_threshold'?: (number | string);
  'stop_history_eou'?: (number);
  'stop_threshold_eou'?: (number | string);
  '_start_history'?: "start_history";
  '_start_threshold'?: "start_threshold";
  '_stop_history'?: "stop_history";
  '_stop_threshold'?: "stop_threshold";
  '_stop_history_eou'?: "stop_history_eou";
  '_stop_threshold_eou'?: "stop_threshold_eou";
}

export interface EndpointingConfig__Output {
  'start_history'?: (number);
  'start_threshold'?: (number);
  'stop_history'?: (number);
  'stop_threshold'?: (number);
  'stop_history_eou'?: (number);
  'stop_threshold_eou'?: (number);
  '_start_history'?: "start_history";
  '_start_threshold'?: "start_threshold";
  '_stop_history'?: "stop_history";
  '_stop_threshold'?: "stop_threshold";
  '_stop_history_eou'?: "stop_history_eou";
  '_stop_threshold_eou'?: "stop_threshold_eou";
}
