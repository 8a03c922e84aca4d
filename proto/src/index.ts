/**
 * Typed access to the Riva and gRPC health contracts. The .proto files are loaded at run time with
 * @grpc/proto-loader (no codegen step for the wire); the TypeScript types in ./generated/ come from
 * `npm run proto:gen` with the same options, so loader and types agree.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as HealthProto } from './generated/health.ts';
import type { ProtoGrpcType as AsrProto } from './generated/riva_asr.ts';
import type { ProtoGrpcType as TtsProto } from './generated/riva_tts.ts';

/** Must match the flags in proto/scripts/generate-types.ts. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  arrays: true,
  oneofs: true,
  defaults: false,
};

/** The folder holding riva/proto/*.proto and grpc/health/v1/health.proto. */
export const PROTO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const PROTO_FILES = {
  asr: 'riva/proto/riva_asr.proto',
  tts: 'riva/proto/riva_tts.proto',
  health: 'grpc/health/v1/health.proto',
} as const;

export interface RivaProtos {
  asr: AsrProto['nvidia']['riva']['asr'];
  tts: TtsProto['nvidia']['riva']['tts'];
  health: HealthProto['grpc']['health']['v1'];
}

let cached: { root: string; protos: RivaProtos } | undefined;

/** Loads (once per root) the ASR, TTS and health packages. */
export function loadRivaProtos(protoRoot: string = PROTO_ROOT): RivaProtos {
  if (cached && cached.root === protoRoot) return cached.protos;
  const load = <T>(file: string): T =>
    grpc.loadPackageDefinition(
      protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [protoRoot] }),
    ) as unknown as T;
  const protos: RivaProtos = {
    asr: load<AsrProto>(PROTO_FILES.asr).nvidia.riva.asr,
    tts: load<TtsProto>(PROTO_FILES.tts).nvidia.riva.tts,
    health: load<HealthProto>(PROTO_FILES.health).grpc.health.v1,
  };
  cached = { root: protoRoot, protos };
  return protos;
}

export type { HealthClient, HealthHandlers } from './generated/grpc/health/v1/Health.ts';
export type { HealthCheckRequest__Output } from './generated/grpc/health/v1/HealthCheckRequest.ts';
export type { HealthCheckResponse } from './generated/grpc/health/v1/HealthCheckResponse.ts';
export type { AudioEncoding } from './generated/nvidia/riva/AudioEncoding.ts';
export type {
  EndpointingConfig,
  EndpointingConfig__Output,
} from './generated/nvidia/riva/asr/EndpointingConfig.ts';
export type {
  RecognitionConfig,
  RecognitionConfig__Output,
} from './generated/nvidia/riva/asr/RecognitionConfig.ts';
export type {
  RecognizeRequest,
  RecognizeRequest__Output,
} from './generated/nvidia/riva/asr/RecognizeRequest.ts';
export type {
  RecognizeResponse,
  RecognizeResponse__Output,
} from './generated/nvidia/riva/asr/RecognizeResponse.ts';
export type {
  RivaSpeechRecognitionClient,
  RivaSpeechRecognitionHandlers,
} from './generated/nvidia/riva/asr/RivaSpeechRecognition.ts';
export type {
  RivaSpeechRecognitionConfigRequest,
  RivaSpeechRecognitionConfigRequest__Output,
} from './generated/nvidia/riva/asr/RivaSpeechRecognitionConfigRequest.ts';
export type {
  RivaSpeechRecognitionConfigResponse,
  RivaSpeechRecognitionConfigResponse__Output,
} from './generated/nvidia/riva/asr/RivaSpeechRecognitionConfigResponse.ts';
export type { SpeakerDiarizationConfig } from './generated/nvidia/riva/asr/SpeakerDiarizationConfig.ts';
export type { SpeechContext } from './generated/nvidia/riva/asr/SpeechContext.ts';
export type {
  SpeechRecognitionAlternative,
  SpeechRecognitionAlternative__Output,
} from './generated/nvidia/riva/asr/SpeechRecognitionAlternative.ts';
export type {
  StreamingRecognitionConfig,
  StreamingRecognitionConfig__Output,
} from './generated/nvidia/riva/asr/StreamingRecognitionConfig.ts';
export type {
  StreamingRecognitionResult,
  StreamingRecognitionResult__Output,
} from './generated/nvidia/riva/asr/StreamingRecognitionResult.ts';
export type {
  StreamingRecognizeRequest,
  StreamingRecognizeRequest__Output,
} from './generated/nvidia/riva/asr/StreamingRecognizeRequest.ts';
export type {
  StreamingRecognizeResponse,
  StreamingRecognizeResponse__Output,
} from './generated/nvidia/riva/asr/StreamingRecognizeResponse.ts';
export type { WordInfo, WordInfo__Output } from './generated/nvidia/riva/asr/WordInfo.ts';
export type { RequestId } from './generated/nvidia/riva/RequestId.ts';
export type {
  RivaSpeechSynthesisClient,
  RivaSpeechSynthesisHandlers,
} from './generated/nvidia/riva/tts/RivaSpeechSynthesis.ts';
export type { RivaSynthesisConfigRequest__Output } from './generated/nvidia/riva/tts/RivaSynthesisConfigRequest.ts';
export type {
  RivaSynthesisConfigResponse,
  RivaSynthesisConfigResponse__Output,
} from './generated/nvidia/riva/tts/RivaSynthesisConfigResponse.ts';
export type {
  SynthesizeSpeechRequest,
  SynthesizeSpeechRequest__Output,
} from './generated/nvidia/riva/tts/SynthesizeSpeechRequest.ts';
export type {
  SynthesizeSpeechResponse,
  SynthesizeSpeechResponse__Output,
} from './generated/nvidia/riva/tts/SynthesizeSpeechResponse.ts';
