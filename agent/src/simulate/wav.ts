/**
 * WAV files in and out for the simulated call: reads PCM (8/16/24/32-bit), IEEE float, G.711 μ-law
 * and A-law at any rate and channel count (mixed down to mono PCM16); writes PCM16 mono or stereo.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface MonoPcm16 {
  sampleRate: number;
  samples: Int16Array;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

export class WavError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

export function readWavFile(path: string): MonoPcm16 {
  return parseWav(readFileSync(path), path);
}

export function parseWav(buf: Buffer, source = 'wav'): MonoPcm16 {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavError(`${source}: not a RIFF/WAVE file`);
  }
  let offset = 12;
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = buf.subarray(offset + 8, Math.min(buf.length, offset + 8 + size));
    if (id === 'fmt ') {
      let format = body.readUInt16LE(0);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two bytes of the sub-format GUID.
      if (format === FORMAT_EXTENSIBLE && body.length >= 26) format = body.readUInt16LE(24);
      fmt = {
        format,
        channels: body.readUInt16LE(2),
        sampleRate: body.readUInt32LE(4),
        bits: body.readUInt16LE(14),
      };
    } else if (id === 'data') {
      data = body;
    }
    offset += 8 + size + (size % 2);
  }
  if (!fmt) throw new WavError(`${source}: no fmt chunk`);
  if (!data) throw new WavError(`${source}: no data chunk`);
  if (fmt.channels < 1 || fmt.sampleRate < 1000) throw new WavError(`${source}: bad channel count or rate`);
  const decode = sampleDecoder(fmt.format, fmt.bits, source);
  const bytesPerSample = fmt.bits / 8;
  const frameBytes = bytesPerSample * fmt.channels;
  const frames = Math.floor(data.length / frameBytes);
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++) sum += decode(data, i * frameBytes + c * bytesPerSample);
    samples[i] = clamp16(sum / fmt.channels);
  }
  return { sampleRate: fmt.sampleRate, samples };
}

type SampleDecoder = (data: Buffer, at: number) => number;

function sampleDecoder(format: number, bits: number, source: string): SampleDecoder {
  if (format === FORMAT_PCM) {
    if (bits === 8) return (d, at) => (d.readUInt8(at) - 128) << 8;
    if (bits === 16) return (d, at) => d.readInt16LE(at);
    if (bits === 24) return (d, at) => d.readIntLE(at, 3) >> 8;
    if (bits === 32) return (d, at) => d.readInt32LE(at) >> 16;
  }
  if (format === FORMAT_FLOAT && bits === 32) return (d, at) => d.readFloatLE(at) * 32767;
  if (format === FORMAT_FLOAT && bits === 64) return (d, at) => d.readDoubleLE(at) * 32767;
  if (format === FORMAT_MULAW && bits === 8) return (d, at) => MULAW_TABLE[d.readUInt8(at)]!;
  if (format === FORMAT_ALAW && bits === 8) return (d, at) => ALAW_TABLE[d.readUInt8(at)]!;
  throw new WavError(`${source}: unsupported WAV encoding (format ${format}, ${bits} bits)`);
}

function clamp16(v: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(v)));
}

/** G.711 μ-law expansion (ITU-T G.711), as a 256-entry table. */
const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => {
  const u = ~i & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
});

/** G.711 A-law expansion, as a 256-entry table. */
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => {
  const a = i ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if (magnitude > 32767) magnitude = 32767;
  return a & 0x80 ? magnitude : -magnitude;
});

/** Writes PCM16 WAV; `channels` interleaved arrays of equal length. */
export function writeWavFile(path: string, sampleRate: number, channels: Int16Array[]): void {
  const frames = channels[0]?.length ?? 0;
  const n = channels.length;
  const dataBytes = frames * n * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(FORMAT_PCM, 20);
  buf.writeUInt16LE(n, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * n * 2, 28);
  buf.writeUInt16LE(n * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  let at = 44;
  for (let i = 0; i < frames; i++) {
    for (const ch of channels) {
      buf.writeInt16LE(ch[i] ?? 0, at);
      at += 2;
    }
  }
  writeFileSync(path, buf);
}

/** Linear-interpolation resampling; good enough for the recordings the simulator writes. */
export function resampleLinear(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples;
  const outLength = Math.floor((samples.length * toRate) / fromRate);
  const out = new Int16Array(outLength);
  const step = fromRate / toRate;
  for (let i = 0; i < outLength; i++) {
    const pos = i * step;
    const i0 = Math.floor(pos);
    const frac = pos - i0;
    const a = samples[i0] ?? 0;
    const b = samples[i0 + 1] ?? a;
    out[i] = Math.round(a + (b - a) * frac);
  }
  return out;
}

/**
 * Finds the caller's speech stretches from the signal itself (20 ms RMS against a threshold relative to
 * the loudest frame), merging pauses shorter than `mergeGapMs`. The simulator uses these as ground
 * truth for "end of caller speech" when it measures latency.
 */
export function findSpeechSegments(
  audio: MonoPcm16,
  options: { mergeGapMs?: number; minSpeechMs?: number } = {},
): Array<{ startMs: number; endMs: number }> {
  const frame = Math.max(1, Math.round(audio.sampleRate / 50));
  const rms: number[] = [];
  for (let i = 0; i + frame <= audio.samples.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j++) sum += (audio.samples[j] ?? 0) ** 2;
    rms.push(Math.sqrt(sum / frame));
  }
  const peak = Math.max(0, ...rms);
  const threshold = Math.max(300, peak * 0.05);
  const mergeGap = (options.mergeGapMs ?? 600) / 20;
  const minSpeech = (options.minSpeechMs ?? 150) / 20;
  const segments: Array<{ start: number; end: number }> = [];
  rms.forEach((v, i) => {
    if (v < threshold) return;
    const last = segments.at(-1);
    if (last && i - last.end <= mergeGap) last.end = i + 1;
    else segments.push({ start: i, end: i + 1 });
  });
  return segments
    .filter((s) => s.end - s.start >= minSpeech)
    .map((s) => ({ startMs: s.start * 20, endMs: s.end * 20 }));
}
