/**
 * Audio in and out for a call without a room: the caller's WAV fed at real-time pace through a
 * `voice.AudioInput`, and the agent's audio captured by a `voice.AudioOutput` that plays it out on a
 * simulated clock (so playout, barge-in and the recordings line up with the caller in time).
 */
import { ReadableStream } from 'node:stream/web';
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { type MonoPcm16, resampleLinear } from './wav.ts';

/** Milliseconds since the simulated call started; shared by input and output. */
export class SimClock {
  readonly #origin = performance.now();
  readonly epochMs = Date.now();

  nowMs(): number {
    return performance.now() - this.#origin;
  }
}

/** Caller frame length by default: SIP's 20 ms packetisation. (LiveKit's AudioStream hands out 10 ms frames.) */
export const CALLER_FRAME_MS = 20;

/** A stretch of the caller's WAV fed without a pause, placed on the call timeline. */
export interface FedRun {
  timelineMs: number;
  wavStart: number;
  wavEnd: number;
}

/**
 * The caller's line: silence until `startCaller()`, then the WAV in 20 ms frames on an absolute clock,
 * then silence again (a phone line keeps carrying audio until someone hangs up). Optional holds make
 * the caller wait at given WAV positions (the start of each later turn) until `release()`, as a person
 * waits for an answer before speaking again; the line carries silence meanwhile.
 */
export class PacedCallerInput extends voice.AudioInput {
  readonly audio: MonoPcm16;
  readonly runs: FedRun[] = [];
  readonly #clock: SimClock;
  readonly #frameSamples: number;
  readonly frameMs: number;
  readonly #holds: number[];
  #started = false;
  #cursor = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #framesSent = 0;
  #startedAtMs = 0;
  #onCallerDone: (() => void) | undefined;
  #callerDoneAtMs: number | undefined;
  readonly callerDone: Promise<void>;

  constructor(clock: SimClock, audio: MonoPcm16, holdAtSamples: number[] = [], frameMs = CALLER_FRAME_MS) {
    super();
    this.#clock = clock;
    this.audio = audio;
    this.frameMs = frameMs;
    this.#holds = [...holdAtSamples].sort((a, b) => a - b);
    this.#frameSamples = Math.round((audio.sampleRate * frameMs) / 1000);
    this.callerDone = new Promise((resolve) => {
      this.#onCallerDone = resolve;
    });
    this.multiStream.addInputStream(this.#createStream());
  }

  /** Timeline position (ms) at which the caller's WAV began, once started. */
  get callerStartMs(): number | undefined {
    return this.runs[0]?.timelineMs;
  }

  /** Timeline position (ms) at which the whole WAV had been fed. */
  get callerDoneAtMs(): number | undefined {
    return this.#callerDoneAtMs;
  }

  /** Where a WAV sample landed on the call timeline. */
  timelineMsOf(wavSample: number): number | undefined {
    const run = this.runs.find((r) => wavSample >= r.wavStart && wavSample <= r.wavEnd);
    return run ? run.timelineMs + ((wavSample - run.wavStart) / this.audio.sampleRate) * 1000 : undefined;
  }

  /** Starts the caller's WAV on the next frame. */
  startCaller(): void {
    this.#started = true;
  }

  /** True while the caller waits at a hold for the agent to answer. */
  get holding(): boolean {
    const next = this.#holds[0];
    return this.#started && next !== undefined && this.#cursor >= next;
  }

  /** Lets the caller go on past the current hold. */
  release(): void {
    if (this.holding) this.#holds.shift();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#onCallerDone?.();
  }

  #nextFrame(): AudioFrame {
    const data = new Int16Array(this.#frameSamples);
    const atMs = this.#startedAtMs + this.#framesSent * this.frameMs;
    if (this.#started && !this.holding && this.#cursor < this.audio.samples.length) {
      const limit = Math.min(this.#holds[0] ?? Number.POSITIVE_INFINITY, this.#cursor + this.#frameSamples);
      const chunk = this.audio.samples.subarray(this.#cursor, limit);
      data.set(chunk);
      const run = this.runs.at(-1);
      if (
        run &&
        run.wavEnd === this.#cursor &&
        Math.abs(run.timelineMs + ((run.wavEnd - run.wavStart) / this.audio.sampleRate) * 1000 - atMs) < 1
      ) {
        run.wavEnd += chunk.length;
      } else {
        this.runs.push({ timelineMs: atMs, wavStart: this.#cursor, wavEnd: this.#cursor + chunk.length });
      }
      this.#cursor += chunk.length;
      if (this.#cursor >= this.audio.samples.length) {
        this.#callerDoneAtMs = atMs + (chunk.length / this.audio.sampleRate) * 1000;
        this.#onCallerDone?.();
      }
    }
    this.#framesSent++;
    return new AudioFrame(data, this.audio.sampleRate, 1, this.#frameSamples);
  }

  /** The caller's audio on the call timeline at `rate` (silence where the caller was not fed). */
  renderTimeline(totalMs: number, rate: number): Int16Array {
    const out = new Int16Array(Math.ceil((totalMs / 1000) * rate));
    for (const run of this.runs) {
      const part = resampleLinear(
        this.audio.samples.subarray(run.wavStart, run.wavEnd),
        this.audio.sampleRate,
        rate,
      );
      const at = Math.round((run.timelineMs / 1000) * rate);
      out.set(part.subarray(0, Math.max(0, out.length - at)), at);
    }
    return out;
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
          const due = Math.floor((this.#clock.nowMs() - this.#startedAtMs) / this.frameMs) + 1;
          while (this.#framesSent < due) controller.enqueue(this.#nextFrame());
          const nextAt = this.#startedAtMs + this.#framesSent * this.frameMs;
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
