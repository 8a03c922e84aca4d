/**
 * Known Riva model, voice and language identifiers. The server decides what is actually deployed: list
 * it with `listAsrModels()` / `listTtsVoices()`. Every option also accepts any other string.
 * - ASR models: https://docs.nvidia.com/nim/riva/asr/latest/support-matrix.html
 * - TTS voices: https://docs.nvidia.com/nim/riva/tts/latest/support-matrix.html
 */

/** ASR model names as reported by `GetRivaSpeechRecognitionConfig` (empty = the server picks). */
export type STTModels =
  | 'parakeet-1.1b-en-US-asr-streaming-silero-vad-sortformer'
  | 'parakeet-0.6b-en-US-asr-streaming'
  | 'parakeet-1.1b-rnnt-multilingual-asr'
  | 'conformer-en-US-asr-streaming'
  | 'conformer-es-US-asr-streaming'
  | 'nemotron-asr-streaming';

/** BCP-47 codes Riva ASR accepts; `multi` asks the multilingual Parakeet model to detect the language. */
export type STTLanguages =
  | 'en-US'
  | 'en-GB'
  | 'es-US'
  | 'es-ES'
  | 'de-DE'
  | 'fr-FR'
  | 'it-IT'
  | 'pt-BR'
  | 'nl-NL'
  | 'multi';

/** TTS voices: FastPitch names and Magpie multilingual names (append `.Happy`, `.Calm`, … for emotions). */
export type TTSVoices =
  | 'English-US.Female-1'
  | 'English-US.Male-1'
  | 'Magpie-Multilingual.EN-US.Aria'
  | 'Magpie-Multilingual.EN-US.Jason'
  | 'Magpie-Multilingual.EN-US.Leo'
  | 'Magpie-Multilingual.EN-US.Mia'
  | 'Magpie-Multilingual.DE-DE.Aria'
  | 'Magpie-Multilingual.FR-FR.Pascal'
  | 'Magpie-Multilingual.ES-US.Diego';

export type TTSLanguages = 'en-US' | 'de-DE' | 'fr-FR' | 'es-US' | 'es-ES' | 'it-IT' | 'zh-CN';

/** Output sample rates Riva TTS produces (8 kHz for SIP). */
export type TTSSampleRates = 8000 | 16000 | 22050 | 24000 | 44100 | 48000;

/** The plugin hands PCM frames to the framework, so only headerless 16-bit PCM is accepted. */
export type TTSEncoding = 'LINEAR_PCM';

/** NVIDIA-hosted (NVCF) gRPC endpoint; needs `apiKey` and a `functionId`. */
export const NVCF_GRPC_URL = 'grpcs://grpc.nvcf.nvidia.com:443';
