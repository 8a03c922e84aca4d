/**
 * A scripted Riva server on 127.0.0.1:0 built on the project's protos, for the plugin tests and bench.
 *
 * ASR "recognizes" coded audio: a word is a run of samples near `wordLevel(i)` (2000·(i+1)), silence is
 * near 0, so transcripts are deterministic and survive resampling (values are matched with tolerance).
 * An utterance is final after `stop_history` ms (default 300) of silence, exactly like an endpoint.
 * Faults are scripted per test: kill a stream after N ms of audio, fail the first N streams, stall, etc.
 */
import * as grpc from '@grpc/grpc-js';
import type {
  RivaSpeechRecognitionHandlers,
  RivaSpeechSynthesisHandlers,
  StreamingRecognitionConfig__Output,
  StreamingRecognizeResponse,
  SynthesizeSpeechRequest__Output,
} from '../../../../proto/src/index.ts';
import { loadRivaProtos } from '../../../../proto/src/index.ts';
import { Decoder } from './fake-decoder.ts';

export { codedAudio, VOCAB, wordLevel } from './fake-decoder.ts';

export interface AsrStreamRecord {
  config: StreamingRecognitionConfig__Output | undefined;
  /** Byte sizes of every audio message. */
  chunkSizes: number[];
  metadata: grpc.Metadata;
  /** Order violations seen (config after audio, audio in first message, both set…). */
  protocolErrors: string[];
  halfClosed: boolean;
  cancelled: boolean;
  /** `performance.now()` when the scripted stall began (nothing more was sent on this stream). */
  stalledAt: number | undefined;
}

export interface TtsRecord {
  request: SynthesizeSpeechRequest__Output;
  requestsOnCall: number;
  metadata: grpc.Metadata;
  /** The client's half-close arrived before the server sent anything. */
  halfClosedBeforeReply: boolean;
  /** The client half-closed at some point. */
  halfClosed: boolean;
  cancelled: boolean;
}

export interface FakeScript {
  /** ASR: reply only after the client half-closes (else results stream as audio arrives). */
  asrReplyAfterHalfClose?: boolean;
  /** ASR: fail this many streams with UNAVAILABLE at once before working. */
  asrFailFirst?: number;
  /** ASR: kill stream #n (0-based) with `code` after `ms` of its audio. */
  asrKill?: { stream: number; afterMs: number; code?: grpc.status }[];
  /** ASR: end stream #n normally (server-side close) after `ms` of its audio. */
  asrServerClose?: { stream: number; afterMs: number }[];
  /**
   * ASR: stream #n (0-based) goes silent after sending `afterResults` results (counting only finals with
   * `finals`): it keeps taking audio, never answers again and never ends, not even after the half-close.
   */
  asrStall?: { stream: number; afterResults: number; finals?: boolean }[];
  /** ASR: take this long to finish after the client's half-close (a busy server). */
  asrFinishDelayMs?: number;
  /** ASR: end every stream with OK straight away (a broken server or proxy). */
  asrEndAtOnce?: boolean;
  /** ASR: reject every stream with this code (e.g. INVALID_ARGUMENT for a bad model). */
  asrRejectAll?: grpc.status;
  /** Unary calls stall this long before answering (deadline tests). */
  unaryDelayMs?: number;
  /** Config RPCs: answer UNAVAILABLE this many times first. */
  configFailFirst?: number;
  /** TTS: ms of audio per character of text. */
  ttsMsPerChar?: number;
  /** TTS: audio per response message, ms. */
  ttsChunkMs?: number;
  /** TTS: wait this long between response messages (simulates real-time-ish synthesis). */
  ttsChunkDelayMs?: number;
  /** TTS: wait for the client's half-close before replying (strict bidi server). */
  ttsReplyAfterHalfClose?: boolean;
  /** TTS: wait this long before the first audio. */
  ttsStallMs?: number;
  /** TTS: after the first chunk, stall this long (a server that hangs mid-sentence). */
  ttsStallAfterFirstMs?: number;
  /** TTS: serve SynthesizeOnline as the pre-2026 server-streaming RPC. */
  ttsServerStreaming?: boolean;
  /** TTS: SynthesizeOnline answers UNIMPLEMENTED (unary only server). */
  ttsNoStreaming?: boolean;
  /** TTS: first N SynthesizeOnline calls fail with UNAVAILABLE. */
  ttsFailFirst?: number;
  /** Expected metadata: calls without it fail UNAUTHENTICATED. */
  requireAuth?: { authorization: string; functionId?: string };
}

/** Deterministic PCM for TTS: a ramp so tests can check byte continuity. */
export function ttsPcm(samples: number, from = 0): Buffer {
  const b = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) b.writeInt16LE(((from + i) % 2000) - 1000, i * 2);
  return b;
}

export class FakeRiva {
  readonly server = new grpc.Server();
  readonly asrStreams: AsrStreamRecord[] = [];
  readonly ttsCalls: TtsRecord[] = [];
  readonly unaryCalls: { method: string; metadata: grpc.Metadata }[] = [];
  /** Every SynthesizeOnline call opened, failed ones included. */
  ttsOnlineAttempts = 0;
  /** SynthesizeOnline calls the client cancelled (even before their request arrived). */
  ttsCancellations = 0;
  script: FakeScript;
  port = 0;
  #configFailures = 0;
  #ttsFailures = 0;

  constructor(script: FakeScript = {}) {
    this.script = script;
    const p = loadRivaProtos();
    this.server.addService(p.asr.RivaSpeechRecognition.service, this.#asrHandlers());
    const ttsDef = p.tts.RivaSpeechSynthesis.service;
    const ttsService = script.ttsServerStreaming
      ? { ...ttsDef, SynthesizeOnline: { ...ttsDef.SynthesizeOnline, requestStream: false } }
      : ttsDef;
    this.server.addService(ttsService, this.#ttsHandlers());
    this.server.addService(p.health.Health.service, {
      Check: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<{ status: string }>) => {
        this.unaryCalls.push({ method: 'Check', metadata: call.metadata });
        cb(null, { status: 'SERVING' });
      },
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });
  }

  async start(creds: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<string> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', creds, (e, port) => (e ? reject(e) : resolve(port))),
    );
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    this.server.forceShutdown();
    return Promise.resolve();
  }

  #authError(md: grpc.Metadata): grpc.ServiceError | undefined {
    const need = this.script.requireAuth;
    if (!need) return undefined;
    const ok =
      md.get('authorization')[0] === need.authorization &&
      (need.functionId === undefined || md.get('function-id')[0] === need.functionId);
    if (ok) return undefined;
    return Object.assign(new Error('unauthenticated'), {
      code: grpc.status.UNAUTHENTICATED,
      details: 'missing or bad credentials',
      metadata: new grpc.Metadata(),
    });
  }

  #asrHandlers(): RivaSpeechRecognitionHandlers {
    return {
      Recognize: (call, cb) => {
        this.unaryCalls.push({ method: 'Recognize', metadata: call.metadata });
        const rate = call.request.config?.sample_rate_hertz || 16000;
        const pcm = call.request.audio ?? Buffer.alloc(0);
        const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.length & ~1)));
        const rec = new Decoder(rate, 300, undefined);
        const results: StreamingRecognizeResponse['results'] = [];
        rec.feed(samples, (r) => results.push(r));
        rec.finish((r) => results.push(r));
        const reply = (): void =>
          cb(null, {
            results: (results ?? [])
              .filter((r) => r.is_final)
              .map((r) => ({ alternatives: r.alternatives, audio_processed: r.audio_processed })),
          });
        if (this.script.unaryDelayMs) setTimeout(reply, this.script.unaryDelayMs);
        else reply();
      },
      GetRivaSpeechRecognitionConfig: (call, cb) => {
        this.unaryCalls.push({ method: 'GetRivaSpeechRecognitionConfig', metadata: call.metadata });
        if (this.#configFailures < (this.script.configFailFirst ?? 0)) {
          this.#configFailures++;
          return cb({ code: grpc.status.UNAVAILABLE, details: 'warming up' });
        }
        const reply = (): void =>
          cb(null, {
            model_config: [
              {
                model_name: 'fake-asr-streaming',
                parameters: { type: 'online', language_code: 'en-US' },
              },
            ],
          });
        if (this.script.unaryDelayMs) setTimeout(reply, this.script.unaryDelayMs);
        else reply();
      },
      StreamingRecognize: (call) => this.#streamingRecognize(call),
    };
  }

  #streamingRecognize(
    call: grpc.ServerDuplexStream<
      import('../../../../proto/src/index.ts').StreamingRecognizeRequest__Output,
      StreamingRecognizeResponse
    >,
  ): void {
    const index = this.asrStreams.length;
    const rec: AsrStreamRecord = {
      config: undefined,
      chunkSizes: [],
      metadata: call.metadata,
      protocolErrors: [],
      halfClosed: false,
      cancelled: false,
      stalledAt: undefined,
    };
    this.asrStreams.push(rec);
    call.on('cancelled', () => {
      rec.cancelled = true;
    });
    const s = this.script;
    const fail = (code: grpc.status, details: string): void => {
      if (done) return;
      done = true;
      call.emit('error', { code, details });
    };
    let done = false;
    const auth = this.#authError(call.metadata);
    if (auth) {
      fail(auth.code, auth.details);
      return;
    }
    if (s.asrRejectAll !== undefined) {
      fail(
        s.asrRejectAll,
        'Error: Unavailable model requested given these parameters: language_code=en-US; type=online;',
      );
      return;
    }
    if (s.asrEndAtOnce) {
      done = true;
      call.end();
      return;
    }
    if (index < (s.asrFailFirst ?? 0)) {
      fail(grpc.status.UNAVAILABLE, 'server restarting');
      return;
    }
    const kill = s.asrKill?.find((k) => k.stream === index);
    const close = s.asrServerClose?.find((k) => k.stream === index);
    const stall = s.asrStall?.find((k) => k.stream === index);
    let counted = 0;
    let decoder: Decoder | undefined;
    const held: StreamingRecognizeResponse[] = [];
    const send = (r: NonNullable<StreamingRecognizeResponse['results']>[number]): void => {
      if (done || rec.stalledAt !== undefined) return;
      if (stall && (!stall.finals || r.is_final) && counted++ >= stall.afterResults) {
        rec.stalledAt = performance.now();
        return;
      }
      if (s.asrReplyAfterHalfClose) held.push({ results: [r] });
      else call.write({ results: [r] });
    };
    let first = true;
    call.on('data', (msg) => {
      if (done) return;
      const hasCfg = msg.streaming_config !== undefined && msg.streaming_config !== null;
      const hasAudio = msg.audio_content !== undefined && msg.audio_content !== null;
      if (first) {
        first = false;
        if (!hasCfg || hasAudio || msg.streaming_request !== 'streaming_config') {
          rec.protocolErrors.push('first message is not streaming_config only');
          return fail(grpc.status.INVALID_ARGUMENT, 'first message must carry streaming_config only');
        }
        rec.config = msg.streaming_config;
        const cfg = msg.streaming_config?.config;
        decoder = new Decoder(
          cfg?.sample_rate_hertz || 16000,
          cfg?.endpointing_config?.stop_history ?? 300,
          cfg?.endpointing_config?.stop_history_eou,
        );
        return;
      }
      if (hasCfg || !hasAudio || msg.streaming_request !== 'audio_content') {
        rec.protocolErrors.push('later message is not audio_content only');
        return fail(grpc.status.INVALID_ARGUMENT, 'later messages must carry audio_content only');
      }
      const buf = msg.audio_content!;
      rec.chunkSizes.push(buf.length);
      const samples = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.length & ~1)));
      decoder!.feed(samples, send);
      const ms = decoder!.processedMs;
      if (kill && ms >= kill.afterMs)
        return fail(kill.code ?? grpc.status.UNAVAILABLE, 'stream killed by test');
      if (close && ms >= close.afterMs && !done) {
        done = true;
        call.end();
      }
    });
    call.on('end', () => {
      rec.halfClosed = true;
      const finish = (): void => {
        if (done || rec.stalledAt !== undefined) return;
        decoder?.finish(send);
        if (rec.stalledAt !== undefined) return;
        for (const h of held) call.write(h);
        done = true;
        call.end();
      };
      if (s.asrFinishDelayMs) setTimeout(finish, s.asrFinishDelayMs);
      else finish();
    });
  }

  #ttsHandlers(): RivaSpeechSynthesisHandlers {
    const s = this.script;
    return {
      Synthesize: (call, cb) => {
        this.unaryCalls.push({ method: 'Synthesize', metadata: call.metadata });
        const auth = this.#authError(call.metadata);
        if (auth) return cb(auth);
        const rate = call.request.sample_rate_hz || 22050;
        const samples = Math.round(((call.request.text ?? '').length * (s.ttsMsPerChar ?? 10) * rate) / 1000);
        this.ttsCalls.push({
          request: call.request,
          requestsOnCall: 1,
          metadata: call.metadata,
          halfClosedBeforeReply: true,
          halfClosed: true,
          cancelled: false,
        });
        const reply = (): void => cb(null, { audio: ttsPcm(samples) });
        if (s.unaryDelayMs) setTimeout(reply, s.unaryDelayMs);
        else reply();
      },
      GetRivaSynthesisConfig: (call, cb) => {
        this.unaryCalls.push({ method: 'GetRivaSynthesisConfig', metadata: call.metadata });
        if (this.#configFailures < (s.configFailFirst ?? 0)) {
          this.#configFailures++;
          return cb({ code: grpc.status.UNAVAILABLE, details: 'warming up' });
        }
        cb(null, {
          model_config: [
            {
              model_name: 'fake-tts',
              parameters: {
                language_code: 'en-US',
                voice_name: 'English-US.Female-1',
                subvoices: 'Female-1:0,Male-1:1',
              },
            },
          ],
        });
      },
      SynthesizeOnline: (call) => this.#synthesizeOnline(call as unknown as TtsCall),
    };
  }

  #synthesizeOnline(call: TtsCall): void {
    const s = this.script;
    this.ttsOnlineAttempts++;
    let rec: TtsRecord | undefined;
    let halfClosed = false;
    let started = false;
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
      this.ttsCancellations++;
      if (rec) rec.cancelled = true;
    });
    const fail = (code: grpc.status, details: string): void => {
      call.emit('error', { code, details });
    };
    const auth = this.#authError(call.metadata);
    if (auth) {
      fail(auth.code, auth.details);
      return;
    }
    if (s.ttsNoStreaming) {
      fail(grpc.status.UNIMPLEMENTED, 'SynthesizeOnline not supported');
      return;
    }
    if (this.#ttsFailures < (s.ttsFailFirst ?? 0)) {
      this.#ttsFailures++;
      fail(grpc.status.UNAVAILABLE, 'tts restarting');
      return;
    }
    const begin = async (): Promise<void> => {
      if (started || !rec) return;
      started = true;
      rec.halfClosedBeforeReply = halfClosed;
      const req = rec.request;
      const rate = req.sample_rate_hz || 22050;
      const total = Math.round(((req.text ?? '').length * (s.ttsMsPerChar ?? 10) * rate) / 1000);
      const per = Math.max(1, Math.round(((s.ttsChunkMs ?? 100) * rate) / 1000));
      if (s.ttsStallMs) await new Promise((r) => setTimeout(r, s.ttsStallMs));
      for (let off = 0; off < total && !cancelled; off += per) {
        const n = Math.min(per, total - off);
        call.write({ audio: ttsPcm(n, off) });
        if (off === 0 && s.ttsStallAfterFirstMs)
          await new Promise((r) => setTimeout(r, s.ttsStallAfterFirstMs));
        if (s.ttsChunkDelayMs) await new Promise((r) => setTimeout(r, s.ttsChunkDelayMs));
      }
      if (!cancelled) call.end();
    };
    const onRequest = (req: SynthesizeSpeechRequest__Output): void => {
      if (rec) {
        rec.requestsOnCall++;
        return;
      }
      rec = {
        request: req,
        requestsOnCall: 1,
        metadata: call.metadata,
        halfClosedBeforeReply: false,
        halfClosed,
        cancelled,
      };
      this.ttsCalls.push(rec);
      if (!s.ttsReplyAfterHalfClose) void begin();
    };
    if (s.ttsServerStreaming) {
      // Pre-2026 servers: one request, no request stream; the half-close is implicit.
      halfClosed = true;
      onRequest(call.request!);
      return;
    }
    call.on('data', onRequest);
    call.on('end', () => {
      halfClosed = true;
      if (rec) rec.halfClosed = true;
      void begin();
    });
  }
}

type TtsCall = grpc.ServerDuplexStream<SynthesizeSpeechRequest__Output, { audio: Buffer }> & {
  request?: SynthesizeSpeechRequest__Output;
};
