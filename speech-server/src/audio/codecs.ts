/**
 * G.711 mu-law / A-law, PCM16 helpers and a WAV header reader. Pure functions over typed arrays so
 * they run the same on the event loop (TTS output) and in decoder workers (ASR input).
 */

/** ITU-T G.711 mu-law byte to a linear 16-bit sample. */
function ulawToLinear(u: number): number {
  const x = ~u & 0xff;
  const sign = x & 0x80;
  const exponent = (x >> 4) & 0x07;
  const mantissa = x & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

/** ITU-T G.711 A-law byte to a linear 16-bit sample. */
function alawToLinear(a: number): number {
  const x = a ^ 0x55;
  const sign = x & 0x80;
  const exponent = (x >> 4) & 0x07;
  const mantissa = x & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = Math.min(magnitude, 32767);
  return sign ? magnitude : -magnitude;
}

const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

export function decodeMulaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ULAW_TABLE[bytes[i]!]!;
  return out;
}

export function decodeAlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_TABLE[bytes[i]!]!;
  return out;
}

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** Linear 16-bit sample to a G.711 mu-law byte. */
function linearToUlaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(Math.abs(sample), MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa) & 0xff;
  return magnitude;
}

/** Linear 16-bit sample to a G.711 A-law byte. */
function linearToAlaw(sample: number): number {
  const sign = sample >= 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), 32767) >> 3;
  let byte: number;
  if (magnitude < 32) {
    byte = magnitude >> 1;
  } else {
    let exponent = 1;
    while (magnitude >> (exponent + 5) > 0 && exponent < 7) exponent++;
    byte = (exponent << 4) | ((magnitude >> exponent) & 0x0f);
  }
  return (byte | sign) ^ 0x55;
}

export function encodeMulaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToUlaw(samples[i]!);
  return out;
}

export function encodeAlaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToAlaw(samples[i]!);
  return out;
}

/** Little-endian PCM16 bytes to samples (copies, so odd offsets into a Buffer are fine). */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  const n = bytes.length >> 1;
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

export function pcm16ToBytes(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}

/** Averages interleaved channels into one. */
export function downmix(samples: Int16Array, channels: number): Int16Array {
  if (channels <= 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    out[f] = Math.round(sum / channels);
  }
  return out;
}

export type SampleEncoding = 'LINEAR_PCM' | 'MULAW' | 'ALAW';

export interface AudioFormat {
  encoding: SampleEncoding;
  sampleRate: number;
  channels: number;
}

/** Bytes per interleaved sample frame. */
export function frameBytes(format: AudioFormat): number {
  return (format.encoding === 'LINEAR_PCM' ? 2 : 1) * format.channels;
}

/** Decodes raw bytes in `format` to mono PCM16 at the source rate. */
export function toMonoPcm16(bytes: Uint8Array, format: AudioFormat): Int16Array {
  const samples =
    format.encoding === 'MULAW'
      ? decodeMulaw(bytes)
      : format.encoding === 'ALAW'
        ? decodeAlaw(bytes)
        : pcm16FromBytes(bytes);
  return downmix(samples, format.channels);
}

export type WavParse =
  | { kind: 'wav'; format: AudioFormat; dataOffset: number }
  | { kind: 'incomplete' }
  | { kind: 'unsupported'; reason: string }
  | { kind: 'not-wav' };

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Reads a RIFF/WAVE header at the start of `bytes`. NVIDIA's sample clients stream a WAV file's
 * raw bytes with encoding and rate left at 0, so the header arrives inside the first audio chunk.
 * The data chunk's size is ignored: streamed WAVs often carry 0 or 0xFFFFFFFF there.
 */
export function parseWavHeader(bytes: Uint8Array): WavParse {
  if (bytes.length < 12) {
    const riff = Buffer.from('RIFF');
    const prefix = bytes.subarray(0, Math.min(4, bytes.length));
    return Buffer.compare(Buffer.from(prefix), riff.subarray(0, prefix.length)) === 0
      ? { kind: 'incomplete' }
      : { kind: 'not-wav' };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o]!, bytes[o + 1]!, bytes[o + 2]!, bytes[o + 3]!);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return { kind: 'not-wav' };
  let offset = 12;
  let format: AudioFormat | undefined;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      if (!format) return { kind: 'unsupported', reason: 'WAV data chunk before fmt chunk' };
      return { kind: 'wav', format, dataOffset: body };
    }
    if (id === 'fmt ') {
      if (body + 16 > bytes.length) return { kind: 'incomplete' };
      let formatTag = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      if (formatTag === WAVE_FORMAT_EXTENSIBLE && size >= 26 && body + 26 <= bytes.length) {
        formatTag = view.getUint16(body + 24, true);
      }
      const encoding: SampleEncoding | undefined =
        formatTag === WAVE_FORMAT_PCM && bits === 16
          ? 'LINEAR_PCM'
          : formatTag === WAVE_FORMAT_MULAW && bits === 8
            ? 'MULAW'
            : formatTag === WAVE_FORMAT_ALAW && bits === 8
              ? 'ALAW'
              : undefined;
      if (!encoding) {
        return { kind: 'unsupported', reason: `WAV format ${formatTag} with ${bits}-bit samples` };
      }
      if (channels < 1 || sampleRate < 1)
        return { kind: 'unsupported', reason: 'WAV header without channels or rate' };
      format = { encoding, sampleRate, channels };
    }
    // Chunks are padded to an even size.
    offset = body + size + (size & 1);
  }
  return { kind: 'incomplete' };
}
