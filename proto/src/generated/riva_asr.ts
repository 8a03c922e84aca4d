import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from './nvidia/riva/RequestId.ts';
import type { EndpointingConfig as _nvidia_riva_asr_EndpointingConfig, EndpointingConfig__Output as _nvidia_riva_asr_EndpointingConfig__Output } from './nvidia/riva/asr/EndpointingConfig.ts';
import type { PipelineStates as _nvidia_riva_asr_PipelineStates, PipelineStates__Output as _nvidia_riva_asr_PipelineStates__Output } from './nvidia/riva/asr/PipelineStates.ts';
import type { RecognitionConfig as _nvidia_riva_asr_RecognitionConfig, RecognitionConfig__Output as _nvidia_riva_asr_RecognitionConfig__Output } from './nvidia/riva/asr/RecognitionConfig.ts';
import type { RecognizeRequest as _nvidia_riva_asr_RecognizeRequest, RecognizeRequest__Output as _nvidia_riva_asr_RecognizeRequest__Output } from './nvidia/riva/asr/RecognizeRequest.ts';
import type { RecognizeResponse as _nvidia_riva_asr_RecognizeResponse, RecognizeResponse__Output as _nvidia_riva_asr_RecognizeResponse__Output } from './nvidia/riva/asr/RecognizeResponse.ts';
import type { RivaSpeechRecognitionClient as _nvidia_riva_asr_RivaSpeechRecognitionClient, RivaSpeechRecognitionDefinition as _nvidia_riva_asr_RivaSpeechRecognitionDefinition } from './nvidia/riva/asr/RivaSpeechRecognition.ts';
import type { RivaSpeechRecognitionConfigRequest as _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, RivaSpeechRecognitionConfigRequest__Output as _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest__Output } from './nvidia/riva/asr/RivaSpeechRecognitionConfigRequest.ts';
import type { RivaSpeechRecognitionConfigResponse as _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse, RivaSpeechRecognitionConfigResponse__Output as _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output } from './nvidia/riva/asr/RivaSpeechRecognitionConfigResponse.ts';
import type { SpeakerDiarizationConfig as _nvidia_riva_asr_SpeakerDiarizationConfig, SpeakerDiarizationConfig__Output as _nvidia_riva_asr_SpeakerDiarizationConfig__Output } from './nvidia/riva/asr/SpeakerDiarizationConfig.ts';
import type { SpeechContext as _nvidia_riva_asr_SpeechContext, SpeechContext__Output as _nvidia_riva_asr_SpeechContext__Output } from './nvidia/riva/asr/SpeechContext.ts';
import type { SpeechRecognitionAlternative as _nvidia_riva_asr_SpeechRecognitionAlternative, SpeechRecognitionAlternative__Output as _nvidia_riva_asr_SpeechRecognitionAlternative__Output } from './nvidia/riva/asr/SpeechRecognitionAlternative.ts';
import type { SpeechRecognitionResult as _nvidia_riva_asr_SpeechRecognitionResult, SpeechRecognitionResult__Output as _nvidia_riva_asr_SpeechRecognitionResult__Output } from './nvidia/riva/asr/SpeechRecognitionResult.ts';
import type { StreamingRecognitionConfig as _nvidia_riva_asr_StreamingRecognitionConfig, StreamingRecognitionConfig__Output as _nvidia_riva_asr_StreamingRecognitionConfig__Output } from './nvidia/riva/asr/StreamingRecognitionConfig.ts';
import type { StreamingRecognitionResult as _nvidia_riva_asr_StreamingRecognitionResult, StreamingRecognitionResult__Output as _nvidia_riva_asr_StreamingRecognitionResult__Output } from './nvidia/riva/asr/StreamingRecognitionResult.ts';
import type { StreamingRecognizeRequest as _nvidia_riva_asr_StreamingRecognizeRequest, StreamingRecognizeRequest__Output as _nvidia_riva_asr_StreamingRecognizeRequest__Output } from './nvidia/riva/asr/StreamingRecognizeRequest.ts';
import type { StreamingRecognizeResponse as _nvidia_riva_asr_StreamingRecognizeResponse, StreamingRecognizeResponse__Output as _nvidia_riva_asr_StreamingRecognizeResponse__Output } from './nvidia/riva/asr/StreamingRecognizeResponse.ts';
import type { WordInfo as _nvidia_riva_asr_WordInfo, WordInfo__Output as _nvidia_riva_asr_WordInfo__Output } from './nvidia/riva/asr/WordInfo.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  nvidia: {
    riva: {
      AudioEncoding: EnumTypeDefinition
      RequestId: MessageTypeDefinition<_nvidia_riva_RequestId, _nvidia_riva_RequestId__Output>
      asr: {
        EndpointingConfig: MessageTypeDefinition<_nvidia_riva_asr_EndpointingConfig, _nvidia_riva_asr_EndpointingConfig__Output>
        PipelineStates: MessageTypeDefinition<_nvidia_riva_asr_PipelineStates, _nvidia_riva_asr_PipelineStates__Output>
        RecognitionConfig: MessageTypeDefinition<_nvidia_riva_asr_RecognitionConfig, _nvidia_riva_asr_RecognitionConfig__Output>
        RecognizeRequest: MessageTypeDefinition<_nvidia_riva_asr_RecognizeRequest, _nvidia_riva_asr_RecognizeRequest__Output>
        RecognizeResponse: MessageTypeDefinition<_nvidia_riva_asr_RecognizeResponse, _nvidia_riva_asr_RecognizeResponse__Output>
        RivaSpeechRecognition: SubtypeConstructor<typeof grpc.Client, _nvidia_riva_asr_RivaSpeechRecognitionClient> & { service: _nvidia_riva_asr_RivaSpeechRecognitionDefinition }
        RivaSpeechRecognitionConfigRequest: MessageTypeDefinition<_nvidia_riva_asr_RivaSpeechRecognitionConfigRequest, _nvidia_riva_asr_RivaSpeechRecognitionConfigRequest__Output>
        RivaSpeechRecognitionConfigResponse: MessageTypeDefinition<_nvidia_riva_asr_RivaSpeechRecognitionConfigResponse, _nvidia_riva_asr_RivaSpeechRecognitionConfigResponse__Output>
        SpeakerDiarizationConfig: MessageTypeDefinition<_nvidia_riva_asr_SpeakerDiarizationConfig, _nvidia_riva_asr_SpeakerDiarizationConfig__Output>
        SpeechContext: MessageTypeDefinition<_nvidia_riva_asr_SpeechContext, _nvidia_riva_asr_SpeechContext__Output>
        SpeechRecognitionAlternative: MessageTypeDefinition<_nvidia_riva_asr_SpeechRecognitionAlternative, _nvidia_riva_asr_SpeechRecognitionAlternative__Output>
        SpeechRecognitionResult: MessageTypeDefinition<_nvidia_riva_asr_SpeechRecognitionResult, _nvidia_riva_asr_SpeechRecognitionResult__Output>
        StreamingRecognitionConfig: MessageTypeDefinition<_nvidia_riva_asr_StreamingRecognitionConfig, _nvidia_riva_asr_StreamingRecognitionConfig__Output>
        StreamingRecognitionResult: MessageTypeDefinition<_nvidia_riva_asr_StreamingRecognitionResult, _nvidia_riva_asr_StreamingRecognitionResult__Output>
        StreamingRecognizeRequest: MessageTypeDefinition<_nvidia_riva_asr_StreamingRecognizeRequest, _nvidia_riva_asr_StreamingRecognizeRequest__Output>
        StreamingRecognizeResponse: MessageTypeDefinition<_nvidia_riva_asr_StreamingRecognizeResponse, _nvidia_riva_asr_StreamingRecognizeResponse__Output>
        WordInfo: MessageTypeDefinition<_nvidia_riva_asr_WordInfo, _nvidia_riva_asr_WordInfo__Output>
      }
    }
  }
}

