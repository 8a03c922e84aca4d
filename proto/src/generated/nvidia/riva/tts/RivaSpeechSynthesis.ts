// Original file: proto/riva/proto/riva_tts.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RivaSynthesisConfigRequest as _nvidia_riva_tts_RivaSynthesisConfigRequest, RivaSynthesisConfigRequest__Output as _nvidia_riva_tts_RivaSynthesisConfigRequest__Output } from '../../../nvidia/riva/tts/RivaSynthesisConfigRequest.ts';
import type { RivaSynthesisConfigResponse as _nvidia_riva_tts_RivaSynthesisConfigResponse, RivaSynthesisConfigResponse__Output as _nvidia_riva_tts_RivaSynthesisConfigResponse__Output } from '../../../nvidia/riva/tts/RivaSynthesisConfigResponse.ts';
import type { SynthesizeSpeechRequest as _nvidia_riva_tts_SynthesizeSpeechRequest, SynthesizeSpeechRequest__Output as _nvidia_riva_tts_SynthesizeSpeechRequest__Output } from '../../../nvidia/riva/tts/SynthesizeSpeechRequest.ts';
import type { SynthesizeSpeechResponse as _nvidia_riva_tts_SynthesizeSpeechResponse, SynthesizeSpeechResponse__Output as _nvidia_riva_tts_SynthesizeSpeechResponse__Output } from '../../../nvidia/riva/tts/SynthesizeSpeechResponse.ts';

export interface RivaSpeechSynthesisClient extends grpc.Client {
  GetRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  GetRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  GetRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  GetRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  getRivaSynthesisConfig(argument: _nvidia_riva_tts_RivaSynthesisConfigRequest, callback: grpc.requestCallback<_nvidia_riva_tts_RivaSynthesisConfigResponse__Output>): grpc.ClientUnaryCall;
  
  Synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  Synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  Synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  Synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  synthesize(argument: _nvidia_riva_tts_SynthesizeSpeechRequest, callback: grpc.requestCallback<_nvidia_riva_tts_SynthesizeSpeechResponse__Output>): grpc.ClientUnaryCall;
  
  SynthesizeOnline(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_tts_SynthesizeSpeechRequest, _nvidia_riva_tts_SynthesizeSpeechResponse__Output>;
  SynthesizeOnline(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_tts_SynthesizeSpeechRequest, _nvidia_riva_tts_SynthesizeSpeechResponse__Output>;
  synthesizeOnline(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_tts_SynthesizeSpeechRequest, _nvidia_riva_tts_SynthesizeSpeechResponse__Output>;
  synthesizeOnline(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nvidia_riva_tts_SynthesizeSpeechRequest, _nvidia_riva_tts_SynthesizeSpeechResponse__Output>;
  
}

export interface RivaSpeechSynthesisHandlers extends grpc.UntypedServiceImplementation {
  GetRivaSynthesisConfig: grpc.handleUnaryCall<_nvidia_riva_tts_RivaSynthesisConfigRequest__Output, _nvidia_riva_tts_RivaSynthesisConfigResponse>;
  
  Synthesize: grpc.handleUnaryCall<_nvidia_riva_tts_SynthesizeSpeechRequest__Output, _nvidia_riva_tts_SynthesizeSpeechResponse>;
  
  SynthesizeOnline: grpc.handleBidiStreamingCall<_nvidia_riva_tts_SynthesizeSpeechRequest__Output, _nvidia_riva_tts_SynthesizeSpeechResponse>;
  
}

export interface RivaSpeechSynthesisDefinition extends grpc.ServiceDefinition {
  GetRivaSynthesisConfig: MethodDefinition<_nvidia_riva_tts_RivaSynthesisConfigRequest, _nvidia_riva_tts_RivaSynthesisConfigResponse, _nvidia_riva_tts_RivaSynthesisConfigRequest__Output, _nvidia_riva_tts_RivaSynthesisConfigResponse__Output>
  Synthesize: MethodDefinition<_nvidia_riva_tts_SynthesizeSpeechRequest, _nvidia_riva_tts_SynthesizeSpeechResponse, _nvidia_riva_tts_SynthesizeSpeechRequest__Output, _nvidia_riva_tts_SynthesizeSpeechResponse__Output>
  SynthesizeOnline: MethodDefinition<_nvidia_riva_tts_SynthesizeSpeechRequest, _nvidia_riva_tts_SynthesizeSpeechResponse, _nvidia_riva_tts_SynthesizeSpeechRequest__Output, _nvidia_riva_tts_SynthesizeSpeechResponse__Output>
}
