/** Pure audio and text helpers: G.711, WAV headers, resampling, endpointing, phrase LMs, sentences. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT, Endpointer, endpointSettings } from '../src/asr/endpointer.ts';
import { boostToWeight, buildArpa, phraseWords } from '../src/asr/phrase-lm.ts';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw, parseWavHeader } from '../src/audio/codecs.ts';
import { Resampler, resample } from '../src/audio/resampler.ts';
import { splitSentences } from '../src/tts/text.ts';

function sine(rate: number, hz: number, seconds: number, amp = 10000): Int16Array {
  return Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)),
  );
}

function wavHeader(formatTag: number, channels: number, rate: number, bits: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(0xffffffff, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(formatTag, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(0, 40);
  return h;
}

describe('G.711', () => {
  it('round-trips mu-law and A-law within the codec step size', () => {
    const x = sine(8000, 440, 0.1);
    for (const [enc, dec] of [
      [encodeMulaw, decodeMulaw],
      [encodeAlaw, decodeAlaw],
    ] as const) {
      const y = dec(enc(x));
      for (let i = 0; i < x.length; i++)
        expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(Math.abs(x[i]!) / 16 + 16);
    }
  });
});

describe('WAV header', () => {
  it('reads PCM16, mu-law and A-law headers and reports incomplete or foreign data', () => {
    expect(parseWavHeader(wavHeader(1, 1, 16000, 16))).toEqual({
      kind: 'wav',
      format: { encoding: 'LINEAR_PCM', sampleRate: 16000, channels: 1 },
      dataOffset: 44,
    });
    expect(parseWavHeader(wavHeader(7, 1, 8000, 8))).toMatchObject({
      format: { encoding: 'MULAW', sampleRate: 8000 },
    });
    expect(parseWavHeader(wavHeader(6, 2, 8000, 8))).toMatchObject({
      format: { encoding: 'ALAW', channels: 2 },
    });
    expect(parseWavHeader(wavHeader(3, 1, 16000, 32)).kind).toBe('unsupported');
    expect(parseWavHeader(wavHeader(1, 1, 16000, 16).subarray(0, 30)).kind).toBe('incomplete');
    expect(parseWavHeader(Buffer.alloc(100)).kind).toBe('not-wav');
  });
});

describe('resampler', () => {
  it('keeps in-band tones, removes out-of-band ones and gives the same output for any chunking', () => {
    const x = sine(48000, 1000, 1);
    const alias = sine(48000, 12000, 1);
    const mixed = x.map((v, i) => v + alias[i]!);
    const y = resample(mixed, 48000, 16000);
    expect(y.length).toBe(16000);
    let energy = 0;
    for (let i = 1000; i < 15000; i++) energy += y[i]! ** 2;
    expect(Math.sqrt(energy / 14000)).toBeCloseTo(10000 / Math.SQRT2, -2);
    const r = new Resampler(48000, 16000);
    const parts: number[] = [];
    for (let i = 0; i < mixed.length; i += 777) parts.push(...r.push(mixed.subarray(i, i + 777)));
    parts.push(...r.flush());
    expect(parts.slice(0, y.length)).toEqual([...y]);
  });

  it('produces exactly round(n * out / in) samples for 8, 22.05, 44.1 and 48 kHz', () => {
    for (const rate of [8000, 22050, 44100, 48000]) {
      expect(resample(sine(16000, 300, 0.5), 16000, rate).length).toBe(Math.round((8000 * rate) / 16000));
    }
  });
});

describe('endpointer', () => {
  const run = (ep: Endpointer, frames: boolean[]) => frames.map((f) => ep.push(f));
  it('starts after start_history of speech and ends after stop_history of silence, with an EOU first', () => {
    const ep = new Endpointer(endpointSettings({ stop_history: 300, stop_history_eou: 100 }));
    const events = run(ep, [...Array(30).fill(true), ...Array(40).fill(false)]);
    const at = (e: string) => events.indexOf(e as never);
    expect(at('start')).toBeGreaterThanOrEqual(9);
    expect(at('eou')).toBeGreaterThan(at('start'));
    expect(at('end') - 30).toBeGreaterThanOrEqual(28);
    expect(at('end') - 30).toBeLessThanOrEqual(30);
  });

  it('uses defaults for unset fields and ignores zero or negative windows', () => {
    expect(endpointSettings(undefined)).toEqual(DEFAULT_ENDPOINT);
    expect(endpointSettings({ stop_history: 0, start_history: -5 }).stopHistoryMs).toBe(
      DEFAULT_ENDPOINT.stopHistoryMs,
    );
  });
});

describe('phrase LM', () => {
  it('builds a valid ARPA trigram from phrases', () => {
    const arpa = buildArpa([phraseWords('Book an appointment!'), phraseWords('an appointment for Tuesday')])!;
    expect(arpa).toContain('ngram 1=7');
    expect(arpa).toContain('\\3-grams:');
    expect(arpa).toMatch(/-?\d\.\d{4} an appointment for/);
    expect(buildArpa([[]])).toBeUndefined();
    expect(boostToWeight(undefined)).toBe(0.5);
    expect(boostToWeight(100)).toBeLessThanOrEqual(0.9);
  });
});

describe('sentence splitting', () => {
  it('splits text (and SSML) into sentences flite can say one at a time', () => {
    expect(splitSentences('Hello there. How are you? Fine!')).toEqual([
      'Hello there.',
      'How are you?',
      'Fine!',
    ]);
    expect(splitSentences('<speak>Hi <break time="1s"/> there.</speak>')).toEqual(['Hi there.']);
    expect(splitSentences('   ')).toEqual([]);
    const long = splitSentences(`${'word, '.repeat(100)}end.`);
    expect(long.length).toBeGreaterThan(1);
    expect(long.every((s) => s.length <= 241)).toBe(true);
    expect(splitSentences('<speak>A &lt;b&gt; &amp; &amp;lt c.</speak>')).toEqual(['A <b> & &lt c.']);
    // An unclosed '<' is text, as the old regex left it; only speakable pieces go to flite.
    expect(splitSentences('<speak>1 < 2 and <3')).toEqual(['1 < 2 and <3']);
  });

  it('takes time linear in the input, whatever the SSML (no backtracking)', () => {
    const time = (text: string) => {
      const t0 = performance.now();
      const sentences = splitSentences(text);
      return { ms: performance.now() - t0, sentences: sentences.length };
    };
    // Warm the regexes and JIT first.
    time(`<speak${'<'.repeat(10_000)}`);
    const small = time(`<speak${'<'.repeat(10_000)}`);
    const big = time(`<speak${'<'.repeat(160_000)}`);
    const noSpaces = time('x'.repeat(160_000));
    const tags = time(`<speak>${'<b>word</b> '.repeat(16_000)}</speak>`);
    console.log(
      `SSML/text prep: 10k '<' ${small.ms.toFixed(1)} ms, 160k '<' ${big.ms.toFixed(1)} ms, ` +
        `160k no spaces ${noSpaces.ms.toFixed(1)} ms, 16k tags ${tags.ms.toFixed(1)} ms`,
    );
    // Quadratic code took 670 ms for 40k and 10.5 s for 160k; linear code takes a few ms. The bounds
    // leave room for a loaded CI machine and still fail any quadratic path by 20x.
    expect(big.ms).toBeLessThan(500);
    expect(noSpaces.ms).toBeLessThan(500);
    expect(tags.ms).toBeLessThan(500);
    // Work is bounded by the text: one sentence for the '<' flood (the rest is unspeakable).
    expect(big.sentences).toBe(1);
    expect(noSpaces.sentences).toBe(Math.ceil(160_000 / 240));
  });
});
