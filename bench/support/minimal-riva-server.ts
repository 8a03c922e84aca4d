/**
 * A minimal Riva-protocol gRPC server for benchmarks and resilience tests: the project's real protos over
 * real gRPC on loopback, with next to no work per request, so what a benchmark measures is the agent.
 *
 * - `StreamingRecognize`: an energy endpoint on the received PCM (10 ms frames, RMS threshold). A run of
 *   speech followed by `stop_history` ms of silence (the client's endpointing config, 300 ms if unset) is an
 *   utterance; its text comes from a script (`transcriptFor`). Like Riva it sends an interim while the caller
 *   speaks, a stability-1.0 interim at `stop_history_eou` (two-pass end of utterance), then the final with
 *   `audio_processed` (seconds of audio this stream received).
 * - `SynthesizeOnline` / `Synthesize`: a tone for the length of the text (`ttsMsPerChar`) at the requested
 *   rate, all written at once in `ttsChunkMs` messages.
 * - Fault injection: every open recognition stream is listed in `asrStreams` with `kill`, `unavailable`,
 *   `stall` and `slow` controls, so a test can break a stream mid-call.
 *
 * `npx tsx bench/support/minimal-riva-server.ts --serve [--port P]` runs it as a child process (the capacity
 * benchmark does, so the agent's CPU is measured apart); it prints `host:port` on stdout and exits when stdin
 * closes
 * (`--until-signal`: until SIGTERM; `--host H` to listen elsewhere than loopback).
 */
import * as grpc from '@grpc/grpc-js';
import {
  loadRivaProtos,
  type RivaSpeechRecognitionHandlers,
  type RivaSpeechSynthesisHandlers,
  type StreamingRecognitionResult,
  type StreamingRecognizeRequest__Output,
  type StreamingRecognizeResponse,
  type SynthesizeSpeechRequest__Output,
  type SynthesizeSpeechResponse,
} from '../../proto/src/index.ts';

export interface UtteranceInfo {
  /** 0-based utterance number on this stream. */
  index: number;
  /** Speech duration as the energy endpoint saw it (ms). */
  speechMs: number;
}

export interface MinimalRivaOptions {
  host?: string;
  port?: number;
  /** Text for an utterance; default: `script` in order, cycling. */
  transcriptFor?: (u: UtteranceInfo) => string;
  script?: string[];
  /** RMS of a 10 ms frame above which it counts as speech. */
  energyThreshold?: number;
  /** Speech shorter than this is a click, not an utterance. */
  minSpeechMs?: number;
  ttsMsPerChar?: number;
  ttsChunkMs?: number;
}

export type AsrFault = 'kill' | 'unavailable' | 'stall' | 'slow';

/** One open StreamingRecognize call, with controls to break it. */
export interface AsrStreamHandle {
  readonly id: number;
  readonly inSpeech: boolean;
  readonly receivedMs: number;
  /** Ends the stream with INTERNAL ("stream reset"), as when a Riva pod dies mid-stream. */
  kill(): void;
  /** Ends the stream with UNAVAILABLE. */
  unavailable(): void;
  /** Holds every result for `ms`, then sends them (the stream stays open and keeps taking audio). */
  stall(ms: number): void;
  /** Delays every later result by `ms` (an overloaded server). */
  slow(ms: number): void;
}

export interface MinimalRivaStats {
  asrStreams: number;
  finals: number;
  ttsCalls: number;
  faults: Record<AsrFault, number>;
}

const DEFAULT_SCRIPT = ['I would like to book an appointment', 'goodbye'];
export const DEFAULT_ENERGY_THRESHOLD = 400;

/** Loud 10 ms frames in `samples`, in ms: what the server's endpoint counts as an utterance's speech. */
export function loudMs(samples: Int16Array, rate: number, threshold = DEFAULT_ENERGY_THRESHOLD): number {
  const frame = Math.round(rate / 100);
  let loud = 0;
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j++) sum += samples[j]! * samples[j]!;
    if (Math.sqrt(sum / frame) >= threshold) loud++;
  }
  return loud * 10;
}

export class MinimalRivaServer {
  readonly server = new grpc.Server({ 'grpc.keepalive_permit_without_calls': 1 });
  readonly asrStreams = new Map<number, AsrStreamHandle>();
  /** Every final actually written to a client, and every fault, in order (for diagnosing a failed run). */
  readonly log: Array<{ atMs: number; stream: number; what: string }> = [];
  readonly stats: MinimalRivaStats = {
    asrStreams: 0,
    finals: 0,
    ttsCalls: 0,
    faults: { kill: 0, unavailable: 0, stall: 0, slow: 0 },
  };
  port = 0;
  readonly #o: Required<Omit<MinimalRivaOptions, 'port' | 'transcriptFor' | 'script'>> & {
    transcriptFor: (u: UtteranceInfo) => string;
  };
  readonly #requestedPort: number;
  #nextId = 0;

  constructor(options: MinimalRivaOptions = {}) {
    const script = options.script ?? DEFAULT_SCRIPT;
    this.#o = {
      host: options.host ?? '127.0.0.1',
      energyThreshold: options.energyThreshold ?? DEFAULT_ENERGY_THRESHOLD,
      minSpeechMs: options.minSpeechMs ?? 120,
      ttsMsPerChar: options.ttsMsPerChar ?? 50,
      ttsChunkMs: options.ttsChunkMs ?? 100,
      transcriptFor: options.transcriptFor ?? ((u) => script[u.index % script.length] ?? ''),
    };
    this.#requestedPort = options.port ?? 0;
    const protos = loadRivaProtos();
    this.server.addService(protos.asr.RivaSpeechRecognition.service, this.#asr());
    this.server.addService(protos.tts.RivaSpeechSynthesis.service, this.#tts());
    this.server.addService(protos.health.Health.service, {
      Check: (_call: unknown, cb: grpc.sendUnaryData<{ status: string }>) => cb(null, { status: 'SERVING' }),
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });
  }

  get url(): string {
    return `${this.#o.host}:${this.port}`;
  }

  async start(): Promise<string> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        `${this.#o.host}:${this.#requestedPort}`,
        grpc.ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    return this.url;
  }

  stop(): Promise<void> {
    this.server.forceShutdown();
    return Promise.resolve();
  }

  #asr(): RivaSpeechRecognitionHandlers {
    return {
      StreamingRecognize: (call) => this.#recognize(call),
      Recognize: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'streaming only' }),
      GetRivaSpeechRecognitionConfig: (_call, cb) =>
        cb(null, {
          model_config: [
            { model_name: 'minimal-asr', parameters: { type: 'online', language_code: 'en-US' } },
          ],
        }),
    };
  }

  #recognize(
    call: grpc.ServerDuplexStream<StreamingRecognizeRequest__Output, StreamingRecognizeResponse>,
  ): void {
    const id = this.#nextId++;
    this.stats.asrStreams++;
    let rate = 16000;
    let frameSamples = 160;
    let stopMs = 300;
    let eouMs: number | undefined;
    let configured = false;
    let done = false;
    // Energy endpoint state, in 10 ms frames.
    let pending = new Int16Array(0);
    let receivedSamples = 0;
    let speechFrames = 0;
    let silenceFrames = 0;
    let inSpeech = false;
    let interimSent = false;
    let eouSent = false;
    let utterances = 0;
    // Fault state.
    let stallUntil = 0;
    let slowMs = 0;
    const held: Array<{ r: StreamingRecognitionResult; dueAt: number }> = [];
    let flushTimer: NodeJS.Timeout | undefined;

    const finish = (code?: grpc.status, details?: string) => {
      if (done) return;
      done = true;
      if (code !== undefined)
        this.log.push({
          atMs: performance.now(),
          stream: id,
          what: `end ${grpc.status[code]} held=${held.length}`,
        });
      this.asrStreams.delete(id);
      if (flushTimer) clearTimeout(flushTimer);
      if (code === undefined) call.end();
      else call.emit('error', { code, details });
    };
    // Held results go out in order once they are due and no stall is on.
    const write = (r: StreamingRecognitionResult) => {
      if (r.is_final)
        this.log.push({
          atMs: performance.now(),
          stream: id,
          what: `final ${r.alternatives?.[0]?.transcript}`,
        });
      call.write({ results: [r] });
    };
    const flushHeld = () => {
      flushTimer = undefined;
      if (done) return;
      const now = performance.now();
      while (held.length > 0 && now >= stallUntil && held[0]!.dueAt <= now) {
        write(held.shift()!.r);
      }
      if (held.length > 0) {
        flushTimer = setTimeout(flushHeld, Math.max(1, Math.max(stallUntil, held[0]!.dueAt) - now));
      }
    };
    const send = (r: StreamingRecognitionResult) => {
      if (done) return;
      const now = performance.now();
      if (now >= stallUntil && slowMs === 0 && held.length === 0) {
        write(r);
        return;
      }
      held.push({ r, dueAt: now + slowMs });
      if (!flushTimer)
        flushTimer = setTimeout(flushHeld, Math.max(1, Math.max(stallUntil, now + slowMs) - now));
    };
    const result = (text: string, final: boolean, stability: number): StreamingRecognitionResult => ({
      alternatives: [{ transcript: text, confidence: final ? 0.95 : 0 }],
      is_final: final,
      stability: final ? 0 : stability,
      audio_processed: receivedSamples / rate,
    });

    const handle: AsrStreamHandle = {
      id,
      get inSpeech() {
        return inSpeech;
      },
      get receivedMs() {
        return (receivedSamples / rate) * 1000;
      },
      kill: () => {
        this.stats.faults.kill++;
        finish(grpc.status.INTERNAL, 'stream reset (killed by fault injection)');
      },
      unavailable: () => {
        this.stats.faults.unavailable++;
        finish(grpc.status.UNAVAILABLE, 'server unavailable (fault injection)');
      },
      stall: (ms: number) => {
        this.stats.faults.stall++;
        this.log.push({ atMs: performance.now(), stream: id, what: 'stall' });
        stallUntil = performance.now() + ms;
      },
      slow: (ms: number) => {
        this.stats.faults.slow++;
        this.log.push({ atMs: performance.now(), stream: id, what: 'slow' });
        slowMs = ms;
      },
    };
    this.asrStreams.set(id, handle);
    call.on('cancelled', () => {
      done = true;
      this.asrStreams.delete(id);
    });

    const onFrame = (frame: Int16Array) => {
      let sum = 0;
      for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
      const loud = Math.sqrt(sum / frame.length) >= this.#o.energyThreshold;
      if (loud) {
        speechFrames++;
        silenceFrames = 0;
        if (!inSpeech && speechFrames * 10 >= this.#o.minSpeechMs) inSpeech = true;
        if (inSpeech && !interimSent && speechFrames * 10 >= 300) {
          interimSent = true;
          const text = this.#o.transcriptFor({ index: utterances, speechMs: speechFrames * 10 });
          send(result(text.split(' ')[0] ?? '', false, 0.1));
        }
        return;
      }
      silenceFrames++;
      if (!inSpeech) {
        if (silenceFrames * 10 >= stopMs) speechFrames = 0;
        return;
      }
      const silentMs = silenceFrames * 10;
      const info = { index: utterances, speechMs: speechFrames * 10 };
      if (eouMs !== undefined && !eouSent && silentMs >= eouMs && silentMs < stopMs) {
        eouSent = true;
        send(result(this.#o.transcriptFor(info), false, 1));
      }
      if (silentMs >= stopMs) {
        send(result(this.#o.transcriptFor(info), true, 0));
        this.stats.finals++;
        utterances++;
        inSpeech = false;
        interimSent = false;
        eouSent = false;
        speechFrames = 0;
      }
    };

    call.on('data', (msg: StreamingRecognizeRequest__Output) => {
      if (done) return;
      if (!configured) {
        const cfg = msg.streaming_config?.config;
        if (!cfg) return finish(grpc.status.INVALID_ARGUMENT, 'first message must carry streaming_config');
        configured = true;
        rate = cfg.sample_rate_hertz || 16000;
        frameSamples = Math.round(rate / 100);
        stopMs = cfg.endpointing_config?.stop_history || 300;
        eouMs = cfg.endpointing_config?.stop_history_eou || undefined;
        return;
      }
      const buf = msg.audio_content;
      if (!buf || buf.length < 2) return;
      const samples = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.length & ~1)));
      receivedSamples += samples.length;
      let data = samples;
      if (pending.length > 0) {
        data = new Int16Array(pending.length + samples.length);
        data.set(pending);
        data.set(samples, pending.length);
      }
      let at = 0;
      for (; at + frameSamples <= data.length; at += frameSamples)
        onFrame(data.subarray(at, at + frameSamples));
      pending = data.slice(at);
    });
    call.on('end', () => {
      if (done) return;
      if (inSpeech) {
        send(result(this.#o.transcriptFor({ index: utterances, speechMs: speechFrames * 10 }), true, 0));
        this.stats.finals++;
      }
      const close = () => (held.length > 0 ? setTimeout(close, 20) : finish());
      close();
    });
    call.on('error', () => {
      done = true;
      this.asrStreams.delete(id);
    });
  }

  #tts(): RivaSpeechSynthesisHandlers {
    const pcm = (req: SynthesizeSpeechRequest__Output): Buffer => {
      const rate = req.sample_rate_hz || 22050;
      const samples = Math.round((((req.text ?? '').length * this.#o.ttsMsPerChar) / 1000) * rate);
      const out = Buffer.alloc(samples * 2);
      const step = (2 * Math.PI * 220) / rate;
      for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(3000 * Math.sin(i * step)), i * 2);
      return out;
    };
    return {
      Synthesize: (call, cb) => {
        this.stats.ttsCalls++;
        cb(null, { audio: pcm(call.request) });
      },
      GetRivaSynthesisConfig: (_call, cb) =>
        cb(null, {
          model_config: [
            {
              model_name: 'minimal-tts',
              parameters: { language_code: 'en-US', voice_name: 'English-US.Female-1' },
            },
          ],
        }),
      SynthesizeOnline: (call) => {
        const duplex = call as unknown as grpc.ServerDuplexStream<
          SynthesizeSpeechRequest__Output,
          SynthesizeSpeechResponse
        >;
        let answered = false;
        let cancelled = false;
        duplex.on('cancelled', () => {
          cancelled = true;
        });
        duplex.on('error', () => {
          cancelled = true;
        });
        duplex.on('data', (req: SynthesizeSpeechRequest__Output) => {
          if (answered || cancelled) return;
          answered = true;
          this.stats.ttsCalls++;
          const audio = pcm(req);
          const chunk = Math.round(((req.sample_rate_hz || 22050) * this.#o.ttsChunkMs) / 1000) * 2;
          for (let at = 0; at < audio.length && !cancelled; at += chunk) {
            duplex.write({ audio: audio.subarray(at, at + chunk) });
          }
          if (!cancelled) duplex.end();
        });
        duplex.on('end', () => {
          if (!answered && !cancelled) duplex.end();
        });
      },
    };
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  if (process.argv.includes('--serve')) {
    const i = process.argv.indexOf('--port');
    const scriptArg = process.argv.indexOf('--script');
    const h = process.argv.indexOf('--host');
    const server = new MinimalRivaServer({
      port: i >= 0 ? Number(process.argv[i + 1]) : 0,
      ...(h >= 0 && process.argv[h + 1] ? { host: process.argv[h + 1] } : {}),
      ...(scriptArg >= 0 ? { script: JSON.parse(process.argv[scriptArg + 1] ?? '[]') as string[] } : {}),
    });
    const url = await server.start();
    process.stdout.write(`${url}\n`);
    // With --until-signal it runs until SIGTERM (a child without a stdin pipe); else until stdin closes.
    if (process.argv.includes('--until-signal')) process.once('SIGTERM', () => process.exit(0));
    else {
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
      process.stdin.on('close', () => process.exit(0));
    }
  }
}
