/**
 * Frame-level speech detection and Riva-style endpointing.
 *
 * Riva's EndpointingConfig speaks in windows and ratios: an utterance starts when at least
 * `start_threshold` of the frames in the last `start_history` ms are speech, and ends when at least
 * `stop_threshold` of the frames in the last `stop_history` ms are not. `stop_history_eou` /
 * `stop_threshold_eou` is an earlier, second check that only produces a stability-1.0 interim.
 * Riva's frames come from its acoustic model's blank probability; ours come from a 10 ms energy
 * detector with an adaptive noise floor, which is enough for phone audio and synthetic callers.
 */

export const FRAME_SAMPLES = 160; // 10 ms at 16 kHz
export const FRAME_MS = 10;

export interface EndpointSettings {
  startHistoryMs: number;
  startThreshold: number;
  stopHistoryMs: number;
  stopThreshold: number;
  /** 0 disables the early end-of-utterance interim. */
  stopHistoryEouMs: number;
  stopThresholdEou: number;
}

/**
 * Defaults tuned for phone turns: 200 ms of mostly-speech to start (a cough or click does not open
 * an utterance), 500 ms of silence to close one (long enough for flite's sentence pauses, short
 * enough for a voice agent). Riva's own defaults (800 ms) suit dictation more than calls.
 */
export const DEFAULT_ENDPOINT: EndpointSettings = {
  startHistoryMs: 200,
  startThreshold: 0.5,
  stopHistoryMs: 500,
  stopThreshold: 0.95,
  stopHistoryEouMs: 0,
  stopThresholdEou: 0.95,
};

/** Bounds that keep a client's values from disabling detection or holding a decoder for ever. */
const MIN_HISTORY_MS = 20;
const MAX_HISTORY_MS = 10_000;

export interface EndpointingInput {
  start_history?: number;
  start_threshold?: number;
  stop_history?: number;
  stop_threshold?: number;
  stop_history_eou?: number;
  stop_threshold_eou?: number;
}

/** Merges a request's optional fields over the defaults (0 and unset differ: both are honoured). */
export function endpointSettings(input: EndpointingInput | undefined): EndpointSettings {
  const s = { ...DEFAULT_ENDPOINT };
  if (!input) return s;
  const hist = (v: number | undefined, fallback: number) =>
    v === undefined || v <= 0 ? fallback : Math.min(MAX_HISTORY_MS, Math.max(MIN_HISTORY_MS, v));
  const ratio = (v: number | undefined, fallback: number) =>
    v === undefined || !Number.isFinite(v) || v <= 0 ? fallback : Math.min(1, v);
  s.startHistoryMs = hist(input.start_history, s.startHistoryMs);
  s.startThreshold = ratio(input.start_threshold, s.startThreshold);
  s.stopHistoryMs = hist(input.stop_history, s.stopHistoryMs);
  s.stopThreshold = ratio(input.stop_threshold, s.stopThreshold);
  s.stopHistoryEouMs =
    input.stop_history_eou !== undefined && input.stop_history_eou > 0 ? hist(input.stop_history_eou, 0) : 0;
  s.stopThresholdEou = ratio(input.stop_threshold_eou, s.stopThresholdEou);
  return s;
}

/** Energy detector: a frame is speech when it is well above the running noise floor. */
export class EnergyVad {
  #floorDb = 30;
  /** dB above the floor that counts as speech. */
  static readonly MARGIN_DB = 10;
  /** Absolute minimum level for speech (full-scale sine is ~87 dB; quiet speech ~50 dB). */
  static readonly MIN_SPEECH_DB = 38;

  isSpeech(frame: Int16Array): boolean {
    let sum = 0;
    for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
    const db = 10 * Math.log10(sum / Math.max(1, frame.length) + 1);
    const speech = db > Math.max(this.#floorDb + EnergyVad.MARGIN_DB, EnergyVad.MIN_SPEECH_DB);
    // The floor drops at once to quieter frames and creeps up slowly (about 3 dB/s) during
    // non-speech, so a steady hum is absorbed but speech never becomes the floor.
    if (db < this.#floorDb) this.#floorDb = db;
    else if (!speech) this.#floorDb += Math.min(0.03, (db - this.#floorDb) * 0.02);
    return speech;
  }
}

/** A fixed-length window of booleans with a running count of `true`. */
class Window {
  readonly #bits: Uint8Array;
  #i = 0;
  #filled = 0;
  #count = 0;
  constructor(frames: number) {
    this.#bits = new Uint8Array(Math.max(1, frames));
  }
  push(v: boolean): void {
    const old = this.#bits[this.#i]!;
    if (this.#filled === this.#bits.length) this.#count -= old;
    else this.#filled++;
    this.#bits[this.#i] = v ? 1 : 0;
    this.#count += v ? 1 : 0;
    this.#i = (this.#i + 1) % this.#bits.length;
  }
  /** Share of `true` over the full window length (a part-filled window counts missing as false). */
  ratio(): number {
    return this.#count / this.#bits.length;
  }
  reset(): void {
    this.#bits.fill(0);
    this.#filled = 0;
    this.#count = 0;
    this.#i = 0;
  }
}

export type EndpointEvent = 'start' | 'eou' | 'end' | null;

/** Endpointing state machine fed one frame decision at a time. */
export class Endpointer {
  readonly settings: EndpointSettings;
  readonly #start: Window;
  readonly #stop: Window;
  readonly #eou: Window | undefined;
  #inSpeech = false;
  #eouSent = false;

  constructor(settings: EndpointSettings) {
    this.settings = settings;
    this.#start = new Window(Math.round(settings.startHistoryMs / FRAME_MS));
    this.#stop = new Window(Math.round(settings.stopHistoryMs / FRAME_MS));
    this.#eou =
      settings.stopHistoryEouMs > 0
        ? new Window(Math.round(settings.stopHistoryEouMs / FRAME_MS))
        : undefined;
  }

  get inSpeech(): boolean {
    return this.#inSpeech;
  }

  /** Start-window length in frames, used for the pre-roll fed to the decoder on 'start'. */
  get startFrames(): number {
    return Math.round(this.settings.startHistoryMs / FRAME_MS);
  }

  push(speech: boolean): EndpointEvent {
    if (!this.#inSpeech) {
      this.#start.push(speech);
      if (speech && this.#start.ratio() >= this.settings.startThreshold) {
        this.#inSpeech = true;
        this.#eouSent = false;
        this.#stop.reset();
        this.#eou?.reset();
        this.#start.reset();
        return 'start';
      }
      return null;
    }
    this.#stop.push(!speech);
    this.#eou?.push(!speech);
    if (speech) this.#eouSent = false;
    if (this.#stop.ratio() >= this.settings.stopThreshold) {
      this.#inSpeech = false;
      return 'end';
    }
    if (this.#eou && !this.#eouSent && this.#eou.ratio() >= this.settings.stopThresholdEou) {
      this.#eouSent = true;
      return 'eou';
    }
    return null;
  }

  reset(): void {
    this.#inSpeech = false;
    this.#start.reset();
    this.#stop.reset();
    this.#eou?.reset();
  }
}
