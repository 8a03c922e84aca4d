import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { RequestId as _nvidia_riva_RequestId, RequestId__Output as _nvidia_riva_RequestId__Output } from './nvidia/riva/RequestId.ts';
import type { RivaSpeechSynthesisClient as _nvidia_riva_tts_RivaSpeechSynthesisClient, RivaSpeechSynthesisDefinition as _nvidia_riva_tts_RivaSpeechSynthesisDefinition } from './nvidia/riva/tts/RivaSpeechSynthesis.ts';
import type { RivaSynthesisConfigRequest as _nvidia_riva_tts_RivaSynthesisConfigRequest, RivaSynthesisConfigRequest__Output as _nvidia_riva_tts_RivaSynthesisConfigRequest__Output } from './nvidia/riva/tts/RivaSynthesisConfigRequest.ts';
import type { RivaSynthesisConfigResponse as _nvidia_riva_tts_RivaSynthesisConfigResponse, RivaSynthesisConfigResponse__Output as _nvidia_riva_tts_RivaSynthesisConfigResponse__Output } from './nvidia/riva/tts/RivaSynthesisConfigResponse.ts';
import type { SynthesizeSpeechRequest as _nvidia_riva_tts_SynthesizeSpeechRequest, SynthesizeSpeechRequest__Output as _nvidia_riva_tts_SynthesizeSpeechRequest__Output } from './nvidia/riva/tts/SynthesizeSpeechRequest.ts';
import type { SynthesizeSpeechResponse as _nvidia_riva_tts_SynthesizeSpeechResponse, SynthesizeSpeechResponse__Output as _nvidia_riva_tts_SynthesizeSpeechResponse__Output } from './nvidia/riva/tts/SynthesizeSpeechResponse.ts';
import type { SynthesizeSpeechResponseMetadata as _nvidia_riva_tts_SynthesizeSpeechResponseMetadata, SynthesizeSpeechResponseMetadata__Output as _nvidia_riva_tts_SynthesizeSpeechResponseMetadata__Output } from './nvidia/riva/tts/SynthesizeSpeechResponseMetadata.ts';
import type { ZeroShotData as _nvidia_riva_tts_ZeroShotData, ZeroShotData__Output as _nvidia_riva_tts_ZeroShotData__Output } from './nvidia/riva/tts/ZeroShotData.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  nvidia: {
    riva: {
      AudioEncoding: EnumTypeDefinition
      RequestId: MessageTypeDefinition<_nvidia_riva_RequestId, _nvidia_riva_RequestId__Output>
      tts: {
        RivaSpeechSynthesis: SubtypeConstructor<typeof grpc.Client, _nvidia_riva_tts_RivaSpeechSynthesisClient> & { service: _nvidia_riva_tts_RivaSpeechSynthesisDefinition }
        RivaSynthesisConfigRequest: MessageTypeDefinition<_nvidia_riva_tts_RivaSynthesisConfigRequest, _nvidia_riva_tts_RivaSynthesisConfigRequest__Output>
        RivaSynthesisConfigResponse: MessageTypeDefinition<_nvidia_riva_tts_RivaSynthesisConfigResponse, _nvidia_riva_tts_RivaSynthesisConfigResponse__Output>
        SynthesizeSpeechRequest: MessageTypeDefinition<_nvidia_riva_tts_SynthesizeSpeechRequest, _nvidia_riva_tts_SynthesizeSpeechRequest__Output>
        SynthesizeSpeechResponse: MessageTypeDefinition<_nvidia_riva_tts_SynthesizeSpeechResponse, _nvidia_riva_tts_SynthesizeSpeechResponse__Output>
        SynthesizeSpeechResponseMetadata: MessageTypeDefinition<_nvidia_riva_tts_SynthesizeSpeechResponseMetadata, _nvidia_riva_tts_SynthesizeSpeechResponseMetadata__Output>
        ZeroShotData: MessageTypeDefinition<_nvidia_riva_tts_ZeroShotData, _nvidia_riva_tts_ZeroShotData__Output>
      }
    }
  }
}

