/**
 * NVIDIA Riva STT and TTS for `@livekit/agents`, over Riva's real protobuf gRPC API.
 * Self-hosted Riva/NIM (`host:50051`) or NVIDIA-hosted (`grpcs://grpc.nvcf.nvidia.com:443` + apiKey + functionId).
 */

export {
  createRivaChannel,
  type ParsedRivaUrl,
  parseRivaUrl,
  RivaChannel,
  type RivaConnectionOptions,
} from './channel.ts';
export {
  checkHealth,
  listAsrModels,
  listTtsVoices,
  type RivaAsrModel,
  type RivaHealth,
  type RivaTtsVoice,
} from './client.ts';
export { toAPIError } from './errors.ts';
export * from './models.ts';
export type { RivaObserver } from './observer.ts';
export {
  defaultSTTOptions,
  type EndpointingOptions,
  type ReconnectOptions,
  SpeechStream,
  STT,
  type STTInit,
  type STTOptions,
} from './stt.ts';
export {
  ChunkedStream,
  defaultTTSOptions,
  SynthesizeStream,
  TTS,
  type TTSInit,
  type TTSOptions,
} from './tts.ts';
