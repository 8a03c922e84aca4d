// Original file: proto/riva/proto/riva_audio.proto

export const AudioEncoding = {
  ENCODING_UNSPECIFIED: 'ENCODING_UNSPECIFIED',
  LINEAR_PCM: 'LINEAR_PCM',
  FLAC: 'FLAC',
  MULAW: 'MULAW',
  OGGOPUS: 'OGGOPUS',
  ALAW: 'ALAW',
} as const;

export type AudioEncoding =
  | 'ENCODING_UNSPECIFIED'
  | 0
  | 'LINEAR_PCM'
  | 1
  | 'FLAC'
  | 2
  | 'MULAW'
  | 3
  | 'OGGOPUS'
  | 4
  | 'ALAW'
  | 20

export type AudioEncoding__Output = typeof AudioEncoding[keyof typeof AudioEncoding]
