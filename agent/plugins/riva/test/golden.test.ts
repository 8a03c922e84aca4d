/**
 * Golden bytes: requests built by the plugin from its options and encoded with the loaded serializers
 * must equal bytes assembled by hand from Riva's field numbers and wire types (NVIDIA's .proto), so a
 * renumbered or retyped field in proto/ cannot slip through.
 */
import { describe, expect, it } from 'vitest';
import { loadRivaProtos } from '../../../../proto/src/index.ts';
import { buildStreamingConfig, resolveSTTOptions } from '../src/stt-options.ts';
import { buildSynthesisRequest, resolveTTSOptions } from '../src/tts-options.ts';

// --- an independent, minimal protobuf writer ---------------------------------------------------------
const VARINT = 0;
const I32 = 5;
const LEN = 2;
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
const tag = (field: number, wire: number): number[] => varint((field << 3) | wire);
const uint = (field: number, n: number): number[] => [...tag(field, VARINT), ...varint(n)];
const bool = (field: number): number[] => uint(field, 1);
const float = (field: number, x: number): number[] => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [...tag(field, I32), ...b];
};
const bytes = (field: number, data: number[] | Buffer): number[] => [
  ...tag(field, LEN),
  ...varint(data.length),
  ...data,
];
const str = (field: number, s: string): number[] => bytes(field, Buffer.from(s, 'utf8'));
const msg = (field: number, ...parts: number[][]): number[] => bytes(field, parts.flat());
const hex = (a: number[] | Buffer): string => Buffer.from(a).toString('hex');
// ------------------------------------------------------------------------------------------------------

const protos = loadRivaProtos();
const streaming = protos.asr.RivaSpeechRecognition.service.StreamingRecognize;
const online = protos.tts.RivaSpeechSynthesis.service.SynthesizeOnline;

describe('golden bytes', () => {
  it('StreamingRecognizeRequest #1: streaming_config only, built from STT options', () => {
    const o = resolveSTTOptions({
      connection: { url: 'riva:50051' },
      language: 'en-US',
      model: 'parakeet',
      sampleRate: 16000,
      punctuation: true,
      wordTimeOffsets: true,
      profanityFilter: true,
      maxAlternatives: 1,
      speechContexts: [{ phrases: ['Riva', 'NIM'], boost: 20 }],
      diarization: { maxSpeakers: 2 },
      customConfiguration: { k: 'v' },
      endpointing: { stopHistoryMs: 0, stopHistoryEouMs: 240, stopThreshold: 0.5 },
    });
    const actual = streaming.requestSerialize({ streaming_config: buildStreamingConfig(o) });
    const recognitionConfig = [
      uint(1, 1), // encoding = LINEAR_PCM
      uint(2, 16000), // sample_rate_hertz
      str(3, 'en-US'), // language_code
      uint(4, 1), // max_alternatives
      bool(5), // profanity_filter
      msg(6, str(1, 'Riva'), str(1, 'NIM'), float(4, 20)), // speech_contexts {phrases; boost=4}
      uint(7, 1), // audio_channel_count
      bool(8), // enable_word_time_offsets
      bool(11), // enable_automatic_punctuation
      str(13, 'parakeet'), // model
      msg(19, bool(1), uint(2, 2)), // diarization_config
      msg(24, str(1, 'k'), str(2, 'v')), // custom_configuration map entry
      // endpointing_config: stop_history = 0 is present (proto3 optional), then stop_threshold, stop_history_eou.
      msg(25, uint(3, 0), float(4, 0.5), uint(5, 240)),
    ];
    const expected = msg(1, msg(1, ...recognitionConfig), bool(2)); // streaming_config{config; interim_results}
    expect(hex(actual)).toBe(hex(expected));
  });

  it('StreamingRecognizeRequest #2..N: audio_content only', () => {
    const audio = Buffer.from([0x01, 0x00, 0xff, 0x7f, 0x00, 0x80]);
    expect(hex(streaming.requestSerialize({ audio_content: audio }))).toBe(hex(bytes(2, audio)));
  });

  it('SynthesizeSpeechRequest built from TTS options', () => {
    const o = resolveTTSOptions({
      connection: { url: 'riva:50051' },
      voice: 'English-US.Female-1',
      language: 'en-US',
      sampleRate: 8000,
      customDictionary: 'NVIDIA  EH1 N V IH1 D IY0 AH0',
    });
    const actual = online.requestSerialize(buildSynthesisRequest(o, 'Hallo Welt'));
    const expected = [
      str(1, 'Hallo Welt'),
      str(2, 'en-US'),
      uint(3, 1), // LINEAR_PCM
      uint(4, 8000),
      str(5, 'English-US.Female-1'),
      str(7, 'NVIDIA  EH1 N V IH1 D IY0 AH0'),
    ].flat();
    expect(hex(actual)).toBe(hex(expected));
  });

  it('decodes a hand-built StreamingRecognizeResponse (final with words) into the fields the plugin reads', () => {
    const word = [
      uint(1, 120),
      uint(2, 480),
      str(3, 'hallo'),
      float(4, 0.75),
      uint(5, 1),
      str(6, 'de-DE'),
    ].flat();
    const alt = [str(1, 'hallo'), float(2, 0.5), bytes(3, word), str(4, 'de-DE')].flat();
    const result = [bytes(1, alt), bool(2), float(3, 0.25), float(6, 1.5)].flat();
    const wire = Buffer.from([...bytes(1, result), ...msg(100, str(1, 'req-1'))]);
    const res = streaming.responseDeserialize(wire);
    const r = res.results?.[0];
    expect(r?.is_final).toBe(true);
    expect(r?.stability).toBeCloseTo(0.25, 6);
    expect(r?.audio_processed).toBeCloseTo(1.5, 6);
    expect(r?.alternatives?.[0]?.transcript).toBe('hallo');
    expect(r?.alternatives?.[0]?.language_code).toEqual(['de-DE']);
    expect(r?.alternatives?.[0]?.words?.[0]).toMatchObject({
      start_time: 120,
      end_time: 480,
      word: 'hallo',
      speaker_tag: 1,
      language_code: 'de-DE',
    });
    expect(res.id?.value).toBe('req-1');
  });
});
