// Original file: proto/riva/proto/riva_asr.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RecognizeRequest as _nvidia_riva_asr_RecognizeRequest, RecognizeRequest__Output as _nvidia_riva_asr_RecognizeRequest__Output } from '../../../nvidia/riva/asr/RecognizeRequest.ts';
import type { RecognizeResponse as _nvidia_riva_asr_RecognizeResponse, RecognizeResponse__Output as _nvidia_riva_asr_RecognizeResponse__Output } from '../../../nvidia/riva/asr/RecognizeResponse.ts';
import type { RivaSpeechRecognitionConfigRequest as _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, RivaSpeechRecognitionConfigRequest__Output as _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest__Output } from '../../../nvidia/riva/asr/RivaSpeechRecognitionConfigRequest.ts';
import type { RivaSpeechRecognitionConfigResponse as _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse, RivaSpeechRecognitionConfigResponse__Output as _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output } from '../../../nvidia/riva/asr/RivaSpeechRecognitionConfigResponse.ts';
import type { StreamingRecognizeRequest as _nvidia_riva_asr_StreamingRecognizeRequest, StreamingRecognizeRequest__Output as _nvidia_riva_asr_StreamingRecognizeRequest__Output } from '../../../nvidia/riva/asr/StreamingRecognizeRequest.ts';
import type { StreamingRecognizeResponse as _nvidia_riva_asr_StreamingRecognizeResponse, StreamingRecognizeResponse__Output as _nvidia_riva_asr_StreamingRecognizeResponse__Output } from '../../../nvidia/riva/asr/StreamingRecognizeResponse.ts';

export interface RivaSpeechRecognitionClient extends grpc.Client {
  GetRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  GetRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  GetRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  GetRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSpeechRecognitionConfig(argument: _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, callback: grpc.requestCallback<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>): grpc.ClientUnaryCall;
  
  Recognize(argument: _nvidia_riva_asr_RecognizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  Recognize(argument: _nvidia_riva_asr_RecognizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  Recognize(argument: _nvidia_riva_asr_RecognizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  Recognize(argument: _nvidia_riva_asr_RecognizeRequest, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  recognize(argument: _nvidia_riva_asr_RecognizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  recognize(argument: _nvidia_riva_asr_RecognizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  recognize(argument: _nvidia_riva_asr_RecognizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  recognize(argument: _nvidia_riva_asr_RecognizeRequest, callback: grpc.requestCallback<_nvidia_riva_asr_RecognizeResponse__Output>): grpc.ClientUnaryCall;
  
  StreamingRecognize(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_asr_StreamingRecognizeRequest, _nvidia_riva_asr_StreamingRecognizeResponse__Output>;
  StreamingRecognize(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_asr_StreamingRecognizeRequest, _nvidia_riva_asr_StreamingRecognizeResponse__Output>;
  streamingRecognize(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_asr_StreamingRecognizeRequest, _nvidia_riva_asr_StreamingRecognizeResponse__Output>;
  streamingRecognize(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_asr_StreamingRecognizeRequest, _nvidia_riva_asr_StreamingRecognizeResponse__Output>;
  
}

export interface RivaSpeechRecognitionHandlers extends grpc.UntypedServiceImplementation {
  GetRivaSpeechRecognitionConfig: grpc.handleUnaryCall<_nvidia_riva_asr_RivaSpeechRecognitionConfigRequest__Output, _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse>;
  
  Recognize: grpc.handleUnaryCall<_nvidia_riva_asr_RecognizeRequest__Output, _nvidia_riva_asr_RecognizeResponse>;
  
  StreamingRecognize: grpc.handleBidiStreamingCall<_nvidia_riva_asr_StreamingRecognizeRequest__Output, _nvidia_riva_asr_StreamingRecognizeResponse>;
  
}

export interface RivaSpeechRecognitionDefinition extends grpc.ServiceDefinition {
  GetRivaSpeechRecognitionConfig: MethodDefinition<_nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse, _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest__Output, _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>
  Recognize: MethodDefinition<_nvidia_riva_asr_RecognizeRequest, _nvidia_riva_asr_RecognizeResponse, _nvidia_riva_asr_RecognizeRequest__Output, _nvidia_riva_asr_RecognizeResponse__Output>
  StreamingRecognize: MethodDefinition<_nvidia_riva_asr_StreamingRecognizeRequest, _nvidia_riva_asr_StreamingRecognizeResponse, _nvidia_riva_asr_StreamingRecognizeRequest__Output, _nvidia_riva_asr_StreamingRecognizeResponse__Output>
}
