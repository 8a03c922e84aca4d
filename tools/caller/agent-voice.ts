/**
 * When the agent is heard at the caller: frame energy on the received track, grouped into bursts of speech
 * (pauses shorter than `quietMs`, such as between two sentences of one reply, stay inside a burst).
 */

export interface VoiceBurst {
  /** Arrival of the first voiced frame (ms on the caller's timeline). */
  startMs: number;
  /** Arrival of the last voiced frame; null while the burst is open. */
  endMs: number | null;
}

/** RMS of a 10 ms frame above which it counts as the agent's voice (TTS speech sits far above it). */
const VOICE_RMS = 300;

export class AgentVoiceDetector {
  readonly bursts: VoiceBurst[] = [];
  #lastVoicedMs = Number.NEGATIVE_INFINITY;
  #quietMs: number;
  #onChange?: (state: 'start' | 'end', atMs: number) => void;

  constructor(opts: { quietMs: number; onChange?: (state: 'start' | 'end', atMs: number) => void }) {
    this.#quietMs = opts.quietMs;
    this.#onChange = opts.onChange;
  }

  get speaking(): boolean {
    return this.bursts.at(-1)?.endMs === null;
  }

  /** Milliseconds since the agent was last heard (infinite before it ever spoke). */
  quietFor(atMs: number): number {
    return atMs - this.#lastVoicedMs;
  }

  push(samples: Int16Array, atMs: number): void {
    let sum = 0;
    for (const s of samples) sum += s * s;
    const voiced = samples.length > 0 && Math.sqrt(sum / samples.length) >= VOICE_RMS;
    this.#close(atMs);
    if (!voiced) return;
    if (!this.speaking) {
      this.bursts.push({ startMs: atMs, endMs: null });
      this.#onChange?.('start', atMs);
    }
    this.#lastVoicedMs = atMs;
  }

  /** Closes an open burst once the agent has been quiet long enough (called on every caller tick too). */
  update(atMs: number): void {
    this.#close(atMs);
  }

  /** Closes an open burst at the end of the call. */
  finish(atMs: number): void {
    this.#close(atMs, true);
  }

  #close(atMs: number, force = false): void {
    const open = this.bursts.at(-1);
    if (!open || open.endMs !== null) return;
    if (force || atMs - this.#lastVoicedMs >= this.#quietMs) {
      open.endMs = this.#lastVoicedMs;
      this.#onChange?.('end', this.#lastVoicedMs);
    }
  }
}
