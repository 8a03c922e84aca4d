// Original file: proto/riva/proto/riva_common.proto


export interface RequestId {
  'value'?: (string);
}

export interface RequestId__Output {
  'value'?: (string);
}
