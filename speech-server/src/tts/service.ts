/**
 * nvidia.riva.tts.RivaSpeechSynthesis on flite: Synthesize (whole reply), SynthesizeOnline
 * (bidirectional since Riva common@2026-03; any number of requests, audio streamed sentence by
 * sentence with the next sentence synthesised while the current one is sent) and
 * GetRivaSynthesisConfig.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../../common/src/logger.ts';
import type {
  RivaSpeechSynthesisHandlers,
  RivaSynthesisConfigRequest__Output,
  RivaSynthesisConfigResponse,
  SynthesizeSpeechRequest__Output,
  SynthesizeSpeechResponse,
} from '../../../proto/src/index.ts';
import { encodeAlaw, encodeMulaw, pcm16ToBytes } from '../audio/codecs.ts';
import { resample } from '../audio/resampler.ts';
import { IdleTimer, idleTimeout, invalidArgument, RpcError, type StreamSlots, toStatus } from '../rpc.ts';
import type { Flite } from './flite.ts';
import { splitSentences } from './text.ts';
import { fullVoiceName, resolveVoice, TTS_LANGUAGE, TTS_MODEL_NAME, VOICE_PREFIX, VOICES } from './voices.ts';

export interface TtsServiceDeps {
  flite: Flite;
  slots: StreamSlots;
  logger: Logger;
  /** A stream that sends nothing (or reads nothing) for this long is ended with DEADLINE_EXCEEDED. */
  idleTimeoutMs: number;
  /** The gRPC message limit: a unary Synthesize stops as soon as its audio would not fit. */
  maxMessageBytes: number;
}

/** Room left in a response for its other fields (id, framing). */
const RESPONSE_OVERHEAD_BYTES = 1024;

const MIN_RATE = 8000;
const MAX_RATE = 96_000;
/** flite's native rate for the 16 kHz voices; the default when a request leaves the rate at 0. */
const DEFAULT_RATE = 16_000;
/** Audio per SynthesizeOnline message. */
const STREAM_CHUNK_MS = 100;

interface CheckedTts {
  flite: string;
  sentences: string[];
  encoding: 'LINEAR_PCM' | 'MULAW' | 'ALAW';
  sampleRate: number;
  id: { value: string } | undefined;
}

export function checkTtsRequest(req: SynthesizeSpeechRequest__Output): CheckedTts {
  const lang = req.language_code ?? '';
  if (lang !== '' && lang.toLowerCase() !== 'en-us' && lang.toLowerCase() !== 'en') {
    throw invalidArgument(
      `Error: Unavailable model requested given these parameters: language_code=${lang};`,
    );
  }
  const voice = resolveVoice(req.voice_name);
  const encoding = req.encoding ?? 'ENCODING_UNSPECIFIED';
  let enc: CheckedTts['encoding'];
  if (encoding === 'LINEAR_PCM' || encoding === 'ENCODING_UNSPECIFIED') enc = 'LINEAR_PCM';
  else if (encoding === 'MULAW' || encoding === 'ALAW') enc = encoding;
  else if (encoding === 'OGGOPUS' || encoding === 'FLAC') {
    throw new RpcError(grpc.status.UNIMPLEMENTED, `encoding ${encoding} is not supported by this server`);
  } else throw invalidArgument(`unknown audio encoding ${String(encoding)}`);
  const rate = req.sample_rate_hz ?? 0;
  if (rate !== 0 && (rate < MIN_RATE || rate > MAX_RATE)) {
    throw invalidArgument(`sample_rate_hz ${rate} is not supported (${MIN_RATE}..${MAX_RATE})`);
  }
  if (req.zero_shot_data?.audio_prompt && req.zero_shot_data.audio_prompt.length > 0) {
    throw new RpcError(grpc.status.UNIMPLEMENTED, 'zero-shot voices are not supported by this server');
  }
  const sentences = splitSentences(req.text ?? '');
  if (sentences.length === 0) throw invalidArgument('text is empty');
  return {
    flite: voice.flite,
    sentences,
    encoding: enc,
    sampleRate: rate === 0 ? DEFAULT_RATE : rate,
    id: req.id?.value ? { value: req.id.value } : undefined,
  };
}

/** Synthesises one sentence and converts it to the requested rate and encoding. */
async function renderSentence(deps: TtsServiceDeps, t: CheckedTts, sentence: string, signal: AbortSignal) {
  const pcm = await deps.flite.synthesize(t.flite, sentence, signal);
  const samples = resample(pcm.samples, pcm.sampleRate, t.sampleRate);
  return encode(samples, t.encoding);
}

function encode(samples: Int16Array, encoding: CheckedTts['encoding']): Buffer {
  if (encoding === 'MULAW') return Buffer.from(encodeMulaw(samples));
  if (encoding === 'ALAW') return Buffer.from(encodeAlaw(samples));
  return pcm16ToBytes(samples);
}

/** Runs sentence synthesis one step ahead of the consumer. */
async function* sentencesAhead(
  deps: TtsServiceDeps,
  t: CheckedTts,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  let next: Promise<Buffer> | undefined = renderSentence(deps, t, t.sentences[0]!, signal);
  for (let i = 0; i < t.sentences.length; i++) {
    const current: Promise<Buffer> = next!;
    next = i + 1 < t.sentences.length ? renderSentence(deps, t, t.sentences[i + 1]!, signal) : undefined;
    // A failure of the prefetched sentence is reported when it is awaited, not as unhandled.
    next?.catch(() => {});
    yield await current;
  }
}

type OnlineCall = grpc.ServerDuplexStream<SynthesizeSpeechRequest__Output, SynthesizeSpeechResponse>;

function writeWithBackpressure(call: OnlineCall, msg: SynthesizeSpeechResponse): Promise<void> {
  if (call.write(msg)) return Promise.resolve();
  return new Promise((resolve) => call.once('drain', () => resolve()));
}

class OnlineStream {
  readonly #call: OnlineCall;
  readonly #deps: TtsServiceDeps;
  readonly #release: () => void;
  readonly #abort = new AbortController();
  readonly #queue: CheckedTts[] = [];
  #halfClosed = false;
  #running = false;
  #done = false;
  /**
   * No traffic either way for idleTimeoutMs ends the stream: a client that sends no request, or stops
   * reading (writes wait for 'drain'), gives its slot back. Re-armed on each request and each write.
   */
  readonly #idle: IdleTimer;

  constructor(call: OnlineCall, deps: TtsServiceDeps, release: () => void) {
    this.#call = call;
    this.#deps = deps;
    this.#release = release;
    this.#idle = new IdleTimer(deps.idleTimeoutMs, () => this.#fail(idleTimeout(deps.idleTimeoutMs)));
    this.#idle.arm();
    call.on('data', (req: SynthesizeSpeechRequest__Output) => {
      if (this.#done) return;
      this.#idle.arm();
      try {
        this.#queue.push(checkTtsRequest(req));
        void this.#pump();
      } catch (err) {
        this.#fail(err);
      }
    });
    call.on('end', () => {
      this.#halfClosed = true;
      void this.#pump();
    });
    call.on('cancelled', () => this.#finish());
    call.on('error', () => this.#finish());
  }

  async #pump(): Promise<void> {
    if (this.#running || this.#done) return;
    this.#running = true;
    try {
      for (let t = this.#queue.shift(); t && !this.#done; t = this.#queue.shift()) {
        const bytesPerChunk = Math.max(
          1,
          Math.round((t.sampleRate * STREAM_CHUNK_MS) / 1000) * (t.encoding === 'LINEAR_PCM' ? 2 : 1),
        );
        for await (const audio of sentencesAhead(this.#deps, t, this.#abort.signal)) {
          for (let off = 0; off < audio.length && !this.#done; off += bytesPerChunk) {
            await writeWithBackpressure(this.#call, {
              audio: audio.subarray(off, off + bytesPerChunk),
              ...(t.id ? { id: t.id } : {}),
            });
            if (!this.#done) this.#idle.arm();
          }
          if (this.#done) return;
        }
      }
      if (this.#halfClosed && !this.#done) {
        this.#call.end();
        this.#finish();
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#running = false;
    }
  }

  #fail(err: unknown): void {
    if (this.#done) return;
    if (!(err instanceof RpcError)) this.#deps.logger.error({ err }, 'streaming synthesis failed');
    this.#finish();
    this.#call.emit('error', toStatus(err));
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#idle.disarm();
    this.#abort.abort();
    this.#release();
  }
}

export function createTtsHandlers(deps: TtsServiceDeps): RivaSpeechSynthesisHandlers {
  return {
    Synthesize(
      call: grpc.ServerUnaryCall<SynthesizeSpeechRequest__Output, SynthesizeSpeechResponse>,
      callback,
    ) {
      let release: () => void;
      try {
        release = deps.slots.acquire();
      } catch (err) {
        callback(toStatus(err));
        return;
      }
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      void (async () => {
        try {
          const t = checkTtsRequest(call.request);
          const parts: Buffer[] = [];
          let bytes = 0;
          const limit = deps.maxMessageBytes - RESPONSE_OVERHEAD_BYTES;
          for await (const audio of sentencesAhead(deps, t, abort.signal)) {
            bytes += audio.length;
            // Stop at once rather than synthesise the rest of a reply that cannot be sent.
            if (bytes > limit) {
              abort.abort();
              throw new RpcError(
                grpc.status.RESOURCE_EXHAUSTED,
                `synthesized audio exceeds the ${deps.maxMessageBytes}-byte message limit; use SynthesizeOnline for long text`,
              );
            }
            parts.push(audio);
          }
          callback(null, { audio: Buffer.concat(parts), ...(t.id ? { id: t.id } : {}) });
        } catch (err) {
          if (!(err instanceof RpcError) && !abort.signal.aborted)
            deps.logger.error({ err }, 'synthesis failed');
          callback(toStatus(err));
        } finally {
          release();
        }
      })();
    },

    SynthesizeOnline(call) {
      let release: () => void;
      try {
        release = deps.slots.acquire();
      } catch (err) {
        call.emit('error', toStatus(err));
        return;
      }
      new OnlineStream(call, deps, release);
    },

    GetRivaSynthesisConfig(
      call: grpc.ServerUnaryCall<RivaSynthesisConfigRequest__Output, RivaSynthesisConfigResponse>,
      callback,
    ) {
      const wanted = call.request.model_name ?? '';
      if (wanted !== '' && wanted !== TTS_MODEL_NAME) {
        callback(toStatus(invalidArgument(`Error: Model ${wanted} is not available on server`)));
        return;
      }
      callback(null, {
        model_config: [
          {
            model_name: TTS_MODEL_NAME,
            // talk.py --list-voices prints voice_name + '.' + each subvoice name.
            parameters: {
              language_code: TTS_LANGUAGE,
              voice_name: VOICE_PREFIX,
              subvoices: VOICES.map((v, i) => `${v.subvoice}:${i}`).join(','),
              default_voice: fullVoiceName(VOICES[0]!),
              sample_rate: String(DEFAULT_RATE),
              engine: 'flite',
            },
          },
        ],
      });
    },
  };
}
