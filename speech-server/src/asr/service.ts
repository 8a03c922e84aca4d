/**
 * nvidia.riva.asr.RivaSpeechRecognition on PocketSphinx: StreamingRecognize (one decoder worker per
 * stream), Recognize (the same pipeline without interims) and GetRivaSpeechRecognitionConfig.
 * Every failure is turned into a status on that call only; nothing here throws past a handler.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../../common/src/logger.ts';
import type {
  RecognizeRequest__Output,
  RecognizeResponse,
  RivaSpeechRecognitionConfigRequest__Output,
  RivaSpeechRecognitionConfigResponse,
  RivaSpeechRecognitionHandlers,
  SpeechRecognitionAlternative,
  StreamingRecognizeRequest__Output,
  StreamingRecognizeResponse,
} from '../../../proto/src/index.ts';
import type { AudioFormat } from '../audio/codecs.ts';
import { IdleTimer, idleTimeout, invalidArgument, type StreamSlots, toStatus } from '../rpc.ts';
import {
  ASR_LANGUAGE,
  ASR_MODELS,
  type CheckedConfig,
  checkChunk,
  checkRecognitionConfig,
  resolveFirstChunk,
} from './config-check.ts';
import type { DecoderPool, DecoderWorker } from './decoder-pool.ts';
import type { RecognizerEvent } from './recognizer.ts';
import { finalTranscript } from './transcript.ts';

export interface AsrServiceDeps {
  pool: DecoderPool;
  slots: StreamSlots;
  logger: Logger;
  /** A stream that sends nothing for this long is ended with DEADLINE_EXCEEDED. */
  idleTimeoutMs: number;
}

function alternative(event: RecognizerEvent, punctuation: boolean): SpeechRecognitionAlternative {
  if (event.kind === 'interim') return { transcript: event.transcript, language_code: [ASR_LANGUAGE] };
  return {
    transcript: finalTranscript(event.transcript, punctuation),
    confidence: event.confidence,
    language_code: [ASR_LANGUAGE],
    words: event.words.map((w) => ({
      word: w.word,
      start_time: w.startMs,
      end_time: w.endMs,
      confidence: w.confidence,
      speaker_tag: 0,
      language_code: ASR_LANGUAGE,
    })),
  };
}

type StreamCall = grpc.ServerDuplexStream<StreamingRecognizeRequest__Output, StreamingRecognizeResponse>;

/** One StreamingRecognize call. */
class RecognizeStream {
  readonly #call: StreamCall;
  readonly #deps: AsrServiceDeps;
  readonly #release: () => void;
  #state: 'await-config' | 'await-format' | 'running' | 'finishing' | 'done' = 'await-config';
  #checked: CheckedConfig | undefined;
  #format: AudioFormat | undefined;
  #headerBuf: Uint8Array = new Uint8Array(0);
  #worker: DecoderWorker | undefined;
  #session = 0;
  #requestId: { value: string } | undefined;
  /** Runs while the server waits for the client's next message (not after its half-close). */
  readonly #idle: IdleTimer;

  constructor(call: StreamCall, deps: AsrServiceDeps, release: () => void) {
    this.#call = call;
    this.#deps = deps;
    this.#release = release;
    this.#idle = new IdleTimer(deps.idleTimeoutMs, () => this.#fail(idleTimeout(deps.idleTimeoutMs)));
    this.#idle.arm();
    call.on('data', (msg: StreamingRecognizeRequest__Output) => {
      this.#idle.arm();
      this.#guard(() => this.#onMessage(msg));
    });
    call.on('end', () => {
      this.#idle.disarm();
      this.#guard(() => this.#onHalfClose());
    });
    call.on('cancelled', () => this.#cleanup());
    call.on('error', () => this.#cleanup());
  }

  #guard(fn: () => void): void {
    if (this.#state === 'done') return;
    try {
      fn();
    } catch (err) {
      this.#fail(err);
    }
  }

  #onMessage(msg: StreamingRecognizeRequest__Output): void {
    if (msg.id?.value) this.#requestId = { value: msg.id.value };
    if (msg.streaming_config) {
      if (this.#state !== 'await-config')
        throw invalidArgument('streaming_config may only be sent once, first');
      this.#checked = checkRecognitionConfig(
        msg.streaming_config.config,
        'online',
        msg.streaming_config.interim_results === true,
      );
      this.#format = this.#checked.format;
      // Lease now so a cold decoder loads while the first audio is on its way.
      this.#worker = this.#deps.pool.lease();
      this.#state = 'await-format';
      return;
    }
    const audio = msg.audio_content;
    if (audio === undefined) return;
    if (this.#state === 'await-config') {
      throw invalidArgument('the first StreamingRecognizeRequest must carry streaming_config');
    }
    if (audio.length === 0 || this.#state === 'finishing') return;
    if (this.#state === 'await-format') {
      const joined = concat(this.#headerBuf, audio);
      const first = resolveFirstChunk(joined, this.#format);
      if (first.kind === 'need-more') {
        this.#headerBuf = joined;
        return;
      }
      this.#headerBuf = new Uint8Array(0);
      checkChunk(first.audio, first.format);
      this.#begin(first.format);
      if (first.audio.length > 0) this.#worker!.audio(this.#session, first.audio);
      return;
    }
    checkChunk(audio, this.#format!);
    this.#worker!.audio(this.#session, audio);
  }

  #begin(format: AudioFormat): void {
    this.#format = format;
    this.#state = 'running';
    const worker = this.#worker!;
    this.#session = worker.start(
      { format, ...this.#checked!.options },
      {
        onEvent: (event) => this.#write(event),
        onFinished: () => {
          if (this.#state === 'done') return;
          this.#call.end();
          this.#cleanup();
        },
        onError: (message) => {
          this.#deps.logger.error({ err: { message } }, 'recognition failed');
          this.#fail(new Error(message));
        },
      },
    );
  }

  #write(event: RecognizerEvent): void {
    if (this.#state === 'done') return;
    const final = event.kind === 'final';
    this.#call.write({
      results: [
        {
          alternatives: [alternative(event, this.#checked?.punctuation === true)],
          is_final: final,
          ...(final ? {} : { stability: event.kind === 'interim' ? event.stability : 0 }),
          channel_tag: 0,
          audio_processed: event.audioProcessed,
        },
      ],
      ...(this.#requestId ? { id: this.#requestId } : {}),
    });
  }

  #onHalfClose(): void {
    if (this.#state === 'running') {
      this.#state = 'finishing';
      this.#worker!.finish(this.#session);
      return;
    }
    // No audio (or no config): nothing to recognise.
    this.#call.end();
    this.#cleanup();
  }

  #fail(err: unknown): void {
    if (this.#state === 'done') return;
    const status = toStatus(err);
    if (status.code === 13) this.#deps.logger.error({ err }, 'streaming recognition error');
    this.#cleanup();
    this.#call.emit('error', status);
  }

  #cleanup(): void {
    if (this.#state === 'done') return;
    const running = this.#state === 'running' || this.#state === 'finishing';
    this.#state = 'done';
    this.#idle.disarm();
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      // Aborting tells the worker to drop the utterance; it is reused once it has acknowledged.
      // The slot covers the decoder too: it is given to another stream only once the decoder is free.
      if (running && worker.busy) worker.abort(this.#session);
      void this.#deps.pool.releaseWhenIdle(worker).finally(this.#release);
    } else this.#release();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Audio per message to the worker in unary Recognize (keeps each worker step short). */
const UNARY_CHUNK_BYTES = 64 * 1024;

export function createAsrHandlers(deps: AsrServiceDeps): RivaSpeechRecognitionHandlers {
  return {
    StreamingRecognize(call) {
      let release: () => void;
      try {
        release = deps.slots.acquire();
      } catch (err) {
        call.emit('error', toStatus(err));
        return;
      }
      new RecognizeStream(call, deps, release);
    },

    Recognize(call: grpc.ServerUnaryCall<RecognizeRequest__Output, RecognizeResponse>, callback) {
      let release: () => void;
      try {
        release = deps.slots.acquire();
      } catch (err) {
        callback(toStatus(err));
        return;
      }
      let worker: DecoderWorker | undefined;
      let session = 0;
      let settled = false;
      const settle = (err: unknown, response?: RecognizeResponse) => {
        if (settled) return;
        settled = true;
        if (worker) {
          if (worker.busy) worker.abort(session);
          void deps.pool.releaseWhenIdle(worker).finally(release);
        } else release();
        if (err) callback(toStatus(err));
        else callback(null, response);
      };
      try {
        const req = call.request;
        const checked = checkRecognitionConfig(req.config, 'offline', false);
        const audio = req.audio ?? Buffer.alloc(0);
        const first = resolveFirstChunk(audio, checked.format);
        const id = req.id?.value ? { id: { value: req.id.value } } : {};
        // An empty or truncated WAV is no speech: OK with no results, as a stream that half-closes
        // before any audio gets (the same rule on both paths).
        if (first.kind === 'need-more') {
          settle(null, { results: [], ...id });
          return;
        }
        checkChunk(first.audio, first.format);
        const results: NonNullable<RecognizeResponse['results']> = [];
        worker = deps.pool.lease();
        session = worker.start(
          { format: first.format, ...checked.options },
          {
            onEvent: (event) => {
              if (event.kind === 'final') {
                results.push({
                  alternatives: [alternative(event, checked.punctuation)],
                  channel_tag: 0,
                  audio_processed: event.audioProcessed,
                });
              }
            },
            onFinished: () => settle(null, { results, ...id }),
            onError: (message) => settle(new Error(message)),
          },
        );
        for (let off = 0; off < first.audio.length; off += UNARY_CHUNK_BYTES) {
          worker.audio(session, first.audio.subarray(off, off + UNARY_CHUNK_BYTES));
        }
        worker.finish(session);
        call.on('cancelled', () => settle(new Error('cancelled')));
      } catch (err) {
        settle(err);
      }
    },

    GetRivaSpeechRecognitionConfig(
      call: grpc.ServerUnaryCall<
        RivaSpeechRecognitionConfigRequest__Output,
        RivaSpeechRecognitionConfigResponse
      >,
      callback,
    ) {
      const wanted = call.request.model_name ?? '';
      const models = ASR_MODELS.filter((m) => wanted === '' || m.name === wanted);
      if (models.length === 0) {
        callback(toStatus(invalidArgument(`Error: Model ${wanted} is not available on server`)));
        return;
      }
      callback(null, {
        model_config: models.map((m) => ({
          model_name: m.name,
          // `type` and `language_code` are what NVIDIA's --list-models reads; the rest is informative.
          parameters: {
            type: m.type,
            language_code: ASR_LANGUAGE,
            streaming: String(m.type === 'online'),
            sample_rate: '16000',
            engine: 'pocketsphinx',
            encodings: 'LINEAR_PCM,MULAW,ALAW',
            // What the request fields get here (README "What it does not do"): accepted, and either
            // approximated or ignored, so a client can tell without trying.
            automatic_punctuation: 'capitalisation and a final . or ? per utterance; no commas',
            inverse_text_normalization: 'not done (numbers stay words); verbatim_transcripts ignored',
            max_alternatives: 'ignored (1 alternative)',
            diarization: 'not done (speaker_tag 0)',
            profanity_filter: 'not done',
            separate_recognition_per_channel: 'not done (channels are downmixed)',
          },
        })),
      });
    },
  };
}
