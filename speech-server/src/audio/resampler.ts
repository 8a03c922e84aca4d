/**
 * Streaming band-limited resampler (windowed sinc, Blackman window, table-driven). Chunks can be
 * any size and the output is the same as resampling the whole signal at once. The low-pass
 * cut-off follows the lower of the two rates, so 44.1/48 kHz input does not alias into the 16 kHz
 * the recogniser sees, and 16 kHz TTS output upsampled to 48 kHz has no imaging.
 */

/** Zero crossings on each side of the kernel at the narrower of the two rates. */
const HALF_ZEROS = 12;
/** Kernel table resolution (entries per input sample); linear interpolation between entries. */
const TABLE_STEPS = 256;

function buildKernel(): Float32Array {
  const n = HALF_ZEROS * TABLE_STEPS + 1;
  const table = new Float32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const x = i / TABLE_STEPS; // in zero crossings
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const w =
      0.42 + 0.5 * Math.cos((Math.PI * x) / HALF_ZEROS) + 0.08 * Math.cos((2 * Math.PI * x) / HALF_ZEROS);
    table[i] = sinc * w;
  }
  return table;
}

const KERNEL = buildKernel();

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Input samples per output sample. */
  readonly #step: number;
  /** Low-pass cut-off as a fraction of the input Nyquist. */
  readonly #cutoff: number;
  /** Kernel half-width in input samples. */
  readonly #half: number;
  #buf: Float32Array = new Float32Array(0);
  /** Time of the next output sample, in input samples relative to #buf[0]. */
  #pos: number;

  constructor(inRate: number, outRate: number) {
    this.inRate = inRate;
    this.outRate = outRate;
    this.#step = inRate / outRate;
    this.#cutoff = Math.min(1, outRate / inRate) * 0.97;
    this.#half = Math.ceil(HALF_ZEROS / this.#cutoff);
    // Start with half a kernel of virtual zeros so output sample 0 lines up with input sample 0.
    this.#buf = new Float32Array(this.#half);
    this.#pos = this.#half;
  }

  get passthrough(): boolean {
    return this.inRate === this.outRate;
  }

  /** Feeds input; returns the output samples that are complete. */
  push(input: Int16Array): Int16Array {
    if (this.passthrough) return input;
    const merged = new Float32Array(this.#buf.length + input.length);
    merged.set(this.#buf);
    for (let i = 0; i < input.length; i++) merged[this.#buf.length + i] = input[i]!;
    this.#buf = merged;
    return this.#drain(false);
  }

  /** Flushes the tail (pads with zeros). Call once at the end of the stream. */
  flush(): Int16Array {
    if (this.passthrough) return new Int16Array(0);
    const padded = new Float32Array(this.#buf.length + this.#half);
    padded.set(this.#buf);
    this.#buf = padded;
    return this.#drain(true);
  }

  #drain(final: boolean): Int16Array {
    const buf = this.#buf;
    const half = this.#half;
    const cutoff = this.#cutoff;
    const out: number[] = [];
    // Need input up to pos + half; at flush the padding supplies it.
    const limit = buf.length - half - (final ? 0 : 1);
    let pos = this.#pos;
    while (pos <= limit) {
      const centre = Math.floor(pos);
      let acc = 0;
      const lo = Math.max(0, centre - half + 1);
      const hi = Math.min(buf.length - 1, centre + half);
      for (let k = lo; k <= hi; k++) {
        const dist = Math.abs(pos - k) * cutoff * TABLE_STEPS;
        const idx = Math.floor(dist);
        if (idx >= KERNEL.length - 1) continue;
        const frac = dist - idx;
        const h = KERNEL[idx]! + (KERNEL[idx + 1]! - KERNEL[idx]!) * frac;
        acc += buf[k]! * h;
      }
      acc *= cutoff;
      out.push(acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc));
      pos += this.#step;
    }
    // Keep the history the next outputs still need.
    const keepFrom = Math.max(0, Math.floor(pos) - half);
    this.#buf = buf.slice(keepFrom);
    this.#pos = pos - keepFrom;
    return Int16Array.from(out);
  }
}

/** One-shot resample of a whole signal. */
export function resample(input: Int16Array, inRate: number, outRate: number): Int16Array {
  if (inRate === outRate) return input;
  const r = new Resampler(inRate, outRate);
  const a = r.push(input);
  const b = r.flush();
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  // Trim to the exact expected length so durations match.
  const expected = Math.round((input.length * outRate) / inRate);
  return out.length > expected ? out.subarray(0, expected) : out;
}
