import { describe, expect, it } from 'vitest';
import { loadRivaProtos } from '../src/index.ts';

describe('loadRivaProtos', () => {
  it('exposes the Riva ASR, TTS and health services with NVIDIA paths', () => {
    const protos = loadRivaProtos();
    expect(Object.keys(protos.asr.RivaSpeechRecognition.service).sort()).toEqual([
      'GetRivaSpeechRecognitionConfig',
      'Recognize',
      'StreamingRecognize',
    ]);
    expect(protos.asr.RivaSpeechRecognition.service.StreamingRecognize.path).toBe(
      '/nvidia.riva.asr.RivaSpeechRecognition/StreamingRecognize',
    );
    const online = protos.tts.RivaSpeechSynthesis.service.SynthesizeOnline;
    expect(online.path).toBe('/nvidia.riva.tts.RivaSpeechSynthesis/SynthesizeOnline');
    expect(online.requestStream).toBe(true);
    expect(online.responseStream).toBe(true);
    expect(protos.health.Health.service.Check.path).toBe('/grpc.health.v1.Health/Check');
  });

  it('keeps optional presence: an explicit 0 is encoded, unset fields are not', () => {
    const method = loadRivaProtos().asr.RivaSpeechRecognition.service.StreamingRecognize;
    const explicitZero = method.requestSerialize({
      streaming_config: { config: { endpointing_config: { stop_history: 0 } } },
    });
    const unset = method.requestSerialize({ streaming_config: { config: { endpointing_config: {} } } });
    // endpointing_config (25) with stop_history (3) = 0 → tag 0x18, value 0x00
    expect(explicitZero.includes(Buffer.from([0x18, 0x00]))).toBe(true);
    expect(explicitZero.length).toBe(unset.length + 2);
    const decoded = method.requestDeserialize(explicitZero);
    expect(decoded.streaming_config?.config?.endpointing_config?.stop_history).toBe(0);
    expect(
      method.requestDeserialize(unset).streaming_config?.config?.endpointing_config?.stop_history,
    ).toBeUndefined();
  });
});
