// Original file: proto/riva/proto/riva_asr.proto

import type { AudioEncoding as _nvidia_riva_AudioEncoding, AudioEncoding__Output as _nvidia_riva_AudioEncoding__Output } from '../../../nvidia/riva/AudioEncoding.ts';
import type { SpeechContext as _nvidia_riva_asr_SpeechContext, SpeechContext__Output as _nvidia_riva_asr_SpeechContext__Output } from '../../../nvidia/riva/asr/SpeechContext.ts';
import type { SpeakerDiarizationConfig as _nvidia_riva_asr_SpeakerDiarizationConfig, SpeakerDiarizationConfig__Output as _nvidia_riva_asr_SpeakerDiarizationConfig__Output } from '../../../nvidia/riva/asr/SpeakerDiarizationConfig.ts';
import type { EndpointingConfig as _nvidia_riva_asr_EndpointingConfig, EndpointingConfig__Output as _nvidia_riva_asr_EndpointingConfig__Output } from '../../../nvidia/riva/asr/EndpointingConfig.ts';

export interface RecognitionConfig {
  'encoding'?: (_nvidia_riva_AudioEncoding);
  'sample_rate_hertz'?: (number);
  'language_code'?: (string);
  'max_alternatives'?: (number);
  'profanity_filter'?: (boolean);
  'speech_contexts'?: (_nvidia_riva_asr_SpeechContext)[];
  'audio_channel_count'?: (number);
  'enable_word_time_offsets'?: (boolean);
  'enable_automatic_punctuation'?: (boolean);
  'enable_separate_recognition_per_channel'?: (boolean);
  'model'?: (string);
  'verbatim_transcripts'?: (boolean);
  'diarization_config'?: (_nvidia_riva_asr_SpeakerDiarizationConfig | null);
  'custom_configuration'?: ({[key: string]: string});
  'endpointing_config'?: (_nvidia_riva_asr_EndpointingConfig | null);
  'get_vad_probabilities'?: (boolean);
  '_endpointing_config'?: "endpointing_config";
}

export interface RecognitionConfig__Output {
  'encoding'?: (_nvidia_riva_AudioEncoding__Output);
  'sample_rate_hertz'?: (number);
  'language_code'?: (string);
  'max_alternatives'?: (number);
  'profanity_filter'?: (boolean);
  'speech_contexts': (_nvidia_riva_asr_SpeechContext__Output)[];
  'audio_channel_count'?: (number);
  'enable_word_time_offsets'?: (boolean);
  'enable_automatic_punctuation'?: (boolean);
  'enable_separate_recognition_per_channel'?: (boolean);
  'model'?: (string);
  'verbatim_transcripts'?: (boolean);
  'diarization_config'?: (_nvidia_riva_asr_SpeakerDiarizationConfig__Output);
  'custom_configuration'?: ({[key: string]: string});
  'endpointing_config'?: (_nvidia_riva_asr_EndpointingConfig__Output);
  'get_vad_probabilities'?: (boolean);
  '_endpointing_config'?: "endpointing_config";
}
