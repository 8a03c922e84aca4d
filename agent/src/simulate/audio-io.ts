/**
 * Audio in and out for a call without a room: the caller's WAV fed at real-time pace through a
 * `voice.AudioInput`, and the agent's audio captured by a `voice.AudioOutput` that plays it out on a
 * simulated clock (so playout, barge-in and the recordings line up with the caller in time).
 */
import { ReadableStream } from 'node:stream/web';
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import type { MonoPcm16 } from './wav.ts';

/** Milliseconds since the simulated call started; shared by input and output. */
export class SimClock {
  readonly #origin = performance.now();
  readonly epochMs = Date.now();

  nowMs(): number {
    return performance.now() - this.#origin;
  }
}

const FRAME_MS = 20;

/**
 * The caller's line: silence until `startCaller()`, then the WAV in 20 ms frames on an absolute clock,
 * then silence again (a phone line keeps carrying audio until someone hangs up).
 */
export class PacedCallerInput extends voice.AudioInput {
  readonly audio: MonoPcm16;
  readonly #clock: SimClock;
  readonly #frameSamples: number;
  #callerStartFrame: number | undefined;
  #cursor = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #framesSent = 0;
  #startedAtMs = 0;
  #onCallerDone: (() => void) | undefined;
  readonly callerDone: Promise<void>;

  constructor(clock: SimClock, audio: MonoPcm16) {
    super();
    this.#clock = clock;
    this.audio = audio;
    this.#frameSamples = Math.round((audio.sampleRate * FRAME_MS) / 1000);
    this.callerDone = new Promise((resolve) => {
      this.#onCallerDone = resolve;
    });
    this.multiStream.addInputStream(this.#createStream());
  }

  /** Timeline position (ms) at which the caller's WAV began, once started. */
  get callerStartMs(): number | undefined {
    return this.#callerStartFrame === undefined
      ? undefined
      : this.#startedAtMs + this.#callerStartFrame * FRAME_MS;
  }

  /** Starts the caller's WAV on the next frame. */
  startCaller(): void {
    if (this.#callerStartFrame === undefined) this.#callerStartFrame = this.#framesSent;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#onCallerDone?.();
  }

  #nextFrame(): AudioFrame {
    const data = new Int16Array(this.#frameSamples);
    if (this.#callerStartFrame !== undefined && this.#cursor < this.audio.samples.length) {
      const chunk = this.audio.samples.subarray(this.#cursor, this.#cursor + this.#frameSamples);
      data.set(chunk);
      this.#cursor += chunk.length;
      if (this.#cursor >= this.audio.samples.length) this.#onCallerDone?.();
    }
    this.#framesSent++;
    return new AudioFrame(data, this.audio.sampleRate, 1, this.#frameSamples);
  }

  #createStream(): ReadableStream<AudioFrame> {
    return new ReadableStream<AudioFrame>({
      start: (controller) => {
        this.#startedAtMs = this.#clock.nowMs();
        const tick = () => {
          if (this.#stopped) {
            try {
              controller.close();
            } catch {
              // already closed by the consumer
            }
            return;
          }
          // Catch up on an absolute clock: a late timer sends every frame that is due, so pacing never drifts.
          const due = Math.floor((this.#clock.nowMs() - this.#startedAtMs) / FRAME_MS) + 1;
          while (this.#framesSent < due) controller.enqueue(this.#nextFrame());
          const nextAt = this.#startedAtMs + this.#framesSent * FRAME_MS;
          this.#timer = setTimeout(tick, Math.max(1, nextAt - this.#clock.nowMs()));
        };
        tick();
      },
      cancel: () => {
        this.#stopped = true;
        if (this.#timer) clearTimeout(this.#timer);
      },
    });
  }
}

export interface PlayedSegment {
  /** Timeline ms of the first audible sample. */
  startMs: number;
  /** Timeline ms at which playout ended or was cut. */
  endMs: number;
  interrupted: boolean;
}

interface Chunk {
  atMs: number;
  samples: Int16Array;
}

/**
 * Plays the agent's audio out on the simulated clock and records it. Frames arrive faster than real
 * time; each one plays at max(arrival, end of the previous frame), so a slow TTS shows up as a gap.
 * `clearBuffer()` (barge-in) cuts the recording at that instant and reports the segment interrupted.
 */
export class RecordingAudioOutput extends voice.AudioOutput {
  readonly outputRate: number;
  readonly segments: PlayedSegment[] = [];
  readonly #clock: SimClock;
  readonly #chunks: Chunk[] = [];
  #segment: { startMs: number; endMs: number; pushedMs: number; firstChunk: number } | undefined;
  #interruptedAtMs: number | undefined;
  #playoutTimer: NodeJS.Timeout | undefined;
  #finishing = false;
  #onPlayoutStart: ((timelineMs: number) => void) | undefined;

  constructor(clock: SimClock, sampleRate: number, onPlayoutStart?: (timelineMs: number) => void) {
    super(sampleRate, undefined, { pause: false });
    this.outputRate = sampleRate;
    this.#clock = clock;
    this.#onPlayoutStart = onPlayoutStart;
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    if (this.#interruptedAtMs !== undefined) return; // cleared: the rest of this segment is never heard
    const now = this.#clock.nowMs();
    const durationMs = (frame.samplesPerChannel / frame.sampleRate) * 1000;
    if (!this.#segment) {
      this.#segment = { startMs: now, endMs: now, pushedMs: 0, firstChunk: this.#chunks.length };
      this.onPlaybackStarted(Date.now());
      this.#onPlayoutStart?.(now);
    }
    const atMs = Math.max(now, this.#segment.endMs);
    this.#chunks.push({ atMs, samples: monoSamples(frame) });
    this.#segment.endMs = atMs + durationMs;
    this.#segment.pushedMs += durationMs;
  }

  override flush(): void {
    super.flush();
    const segment = this.#segment;
    if (!segment) {
      this.#interruptedAtMs = undefined;
      return;
    }
    if (this.#interruptedAtMs !== undefined) {
      this.#finish(true);
      return;
    }
    this.#finishing = true;
    this.#playoutTimer = setTimeout(
      () => this.#finish(false),
      Math.max(0, segment.endMs - this.#clock.nowMs()),
    );
  }

  clearBuffer(): void {
    const segment = this.#segment;
    if (!segment || this.#interruptedAtMs !== undefined) return;
    const now = this.#clock.nowMs();
    if (now >= segment.endMs && this.#finishing) return; // already played out in full
    this.#interruptedAtMs = now;
    // Drop what had not been heard yet.
    for (let i = this.#chunks.length - 1; i >= segment.firstChunk; i--) {
      const chunk = this.#chunks[i]!;
      if (chunk.atMs >= now) this.#chunks.splice(i, 1);
      else {
        const keep = Math.floor(((now - chunk.atMs) / 1000) * this.outputRate);
        if (keep < chunk.samples.length) chunk.samples = chunk.samples.subarray(0, keep);
        break;
      }
    }
    if (this.#finishing) {
      if (this.#playoutTimer) clearTimeout(this.#playoutTimer);
      this.#finish(true);
    }
  }

  #finish(interrupted: boolean): void {
    const segment = this.#segment;
    if (!segment) return;
    const endMs = interrupted ? (this.#interruptedAtMs ?? this.#clock.nowMs()) : segment.endMs;
    const playedMs = Math.min(segment.pushedMs, Math.max(0, endMs - segment.startMs));
    this.segments.push({ startMs: segment.startMs, endMs, interrupted });
    this.#segment = undefined;
    this.#interruptedAtMs = undefined;
    this.#finishing = false;
    this.#playoutTimer = undefined;
    this.onPlaybackFinished({ playbackPosition: playedMs / 1000, interrupted });
  }

  /** The agent's audio on the call timeline (silence where it did not speak). */
  renderTimeline(totalMs: number): Int16Array {
    const out = new Int16Array(Math.ceil((totalMs / 1000) * this.outputRate));
    for (const chunk of this.#chunks) {
      const at = Math.round((chunk.atMs / 1000) * this.outputRate);
      for (let i = 0; i < chunk.samples.length && at + i < out.length; i++) out[at + i] = chunk.samples[i]!;
    }
    return out;
  }

  get lastAudioMs(): number {
    const last = this.#chunks.at(-1);
    return last ? last.atMs + (last.samples.length / this.outputRate) * 1000 : 0;
  }
}

function monoSamples(frame: AudioFrame): Int16Array {
  if (frame.channels === 1) return Int16Array.from(frame.data);
  const out = new Int16Array(frame.samplesPerChannel);
  for (let i = 0; i < frame.samplesPerChannel; i++) {
    let sum = 0;
    for (let c = 0; c < frame.channels; c++) sum += frame.data[i * frame.channels + c]!;
    out[i] = Math.round(sum / frame.channels);
  }
  return out;
}
