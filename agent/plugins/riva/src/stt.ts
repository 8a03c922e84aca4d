/**
 * Riva speech-to-text for `@livekit/agents`: streaming recognition over `StreamingRecognize` with
 * interim/final transcripts, word boosting, endpointing, lossless reconnect and keepalive; `recognize()`
 * over unary `Recognize`.
 */
import { type APIConnectOptions, type AudioBuffer, asLanguageCode, mergeFrames, stt } from '@livekit/agents';
import type { RecognizeResponse__Output } from '../../../../proto/src/index.ts';
import { type RivaChannel, resolveChannel } from './channel.ts';
import { unaryCall } from './client.ts';
import { buildRecognitionConfig, resolveSTTOptions, type STTInit, type STTOptions } from './stt-options.ts';
import { toSpeechData } from './stt-results.ts';
import { SpeechStream } from './stt-stream.ts';

export type { EndpointingOptions, ReconnectOptions, STTInit, STTOptions } from './stt-options.ts';
export { defaultSTTOptions } from './stt-options.ts';
export { SpeechStream } from './stt-stream.ts';

export class STT extends stt.STT {
  label = 'riva.STT';
  #opts: STTOptions;
  readonly #channel: RivaChannel;
  readonly #ownsChannel: boolean;
  readonly #streams = new Set<SpeechStream>();

  /** Throws at once, naming the option, if any option is invalid or the Riva url is malformed. */
  constructor(opts: STTInit) {
    super({
      streaming: true,
      interimResults: opts?.interimResults ?? true,
      diarization: opts?.diarization !== undefined,
    });
    this.#opts = resolveSTTOptions(opts);
    const { channel, owned } = resolveChannel(this.#opts.connection);
    this.#channel = channel;
    this.#ownsChannel = owned;
  }

  override get model(): string {
    return this.#opts.model || 'riva-default';
  }

  override get provider(): string {
    return 'nvidia-riva';
  }

  get channel(): RivaChannel {
    return this.#channel;
  }

  get options(): Readonly<STTOptions> {
    return this.#opts;
  }

  /** Applies to streams opened afterwards (a running Riva stream cannot change its config). */
  updateOptions(opts: Partial<Omit<STTInit, 'connection'>>): void {
    this.#opts = resolveSTTOptions({ ...this.#opts, ...opts, connection: this.#opts.connection } as STTInit);
  }

  protected async _recognize(buffer: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    const frame = mergeFrames(buffer);
    const pcm = Buffer.from(
      frame.data.buffer,
      frame.data.byteOffset,
      frame.samplesPerChannel * frame.channels * 2,
    );
    const config = {
      ...buildRecognitionConfig(this.#opts, frame.sampleRate),
      audio_channel_count: frame.channels,
    };
    const res = await unaryCall<RecognizeResponse__Output>(
      this.#channel,
      'Recognize',
      (md, o, cb) => this.#channel.asr.Recognize({ config, audio: pcm }, md, o, cb),
      { signal: abortSignal },
    );
    const ctx = { language: this.#opts.language, offsetSec: 0, audioProcessedSec: 0, diarization: false };
    const alts = (res.results ?? []).map((r) => r.alternatives?.[0]).filter((a) => a !== undefined);
    const text = alts
      .map((a) => (a.transcript ?? '').trim())
      .filter(Boolean)
      .join(' ');
    const first = alts[0] ? toSpeechData(alts[0], ctx) : undefined;
    const words = alts.flatMap((a) => toSpeechData(a, ctx).words ?? []);
    const data: stt.SpeechData = {
      language: first?.language ?? asLanguageCode(this.#opts.language),
      text,
      startTime: words[0]?.startTime ?? 0,
      endTime: words[words.length - 1]?.endTime ?? frame.samplesPerChannel / frame.sampleRate,
      confidence: first?.confidence ?? 0,
    };
    if (words.length > 0) data.words = words;
    return { type: stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives: [data] };
  }

  stream(options?: { connOptions?: APIConnectOptions }): SpeechStream {
    const s = new SpeechStream(this, this.#opts, this.#channel, options?.connOptions, () =>
      this.#streams.delete(s),
    );
    this.#streams.add(s);
    return s;
  }

  override async close(): Promise<void> {
    for (const s of this.#streams) s.close();
    this.#streams.clear();
    if (this.#ownsChannel) this.#channel.close();
  }
}
