/**
 * NVIDIA's own Python client (`nvidia-riva-client`, pinned in scripts/install-riva-client.sh, venv in
 * .tools/riva-client-venv) against speech servers started here on loopback: plaintext, TLS and mTLS
 * (certificates made with openssl). One Python process runs every check in riva-python/checks.py and
 * prints what it saw as JSON; each `it` below asserts on one part of it. Skipped, with the command to
 * run, only when the venv is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import { type SpeechServer, startSpeechServer } from '../src/server.ts';
import { readTlsFiles } from '../src/tls.ts';
import { makeTestPki, type TestPki } from './certs.ts';
import { wordErrors } from './helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const PYTHON = join(ROOT, '.tools/riva-client-venv/bin/python');
const CHECKS = new URL('./riva-python/checks.py', import.meta.url).pathname;
const WAV16 = join(ROOT, 'agent/assets/sample-caller.wav');
const WAV8_MULAW = join(ROOT, 'agent/assets/sample-caller-8k-mulaw.wav');
const SAMPLE_TEXT =
  'hello i would like to book an appointment for next tuesday yes at ten in the morning please thank you goodbye';
const TTS_TEXT = 'Your appointment is confirmed. We will call you tomorrow morning.';
const TTS_RATES = [8000, 16000, 22050, 44100, 48000];
const TTS_STREAM_RATES = [16000, 22050];
const FUNCTION_ID = 'bb0837de-8c7b-481f-9ec8-ef5663e9c1fa';

const haveVenv = existsSync(PYTHON);
const silent = createLogger({ level: 'silent', service: 'speech-server-test' });

type Check = Record<string, unknown> & { code?: string; details?: string; ms: number };
let results: Record<string, Check> = {};
let pki: TestPki;
const servers: SpeechServer[] = [];

/** Runs checks.py once (asynchronously: the servers live in this process's event loop). */
function runChecks(configFile: string): Promise<Record<string, Check>> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [CHECKS, configFile],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`checks.py failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Record<string, Check>);
      },
    );
  });
}

describe.skipIf(!haveVenv)("NVIDIA's Python client (nvidia-riva-client)", () => {
  beforeAll(async () => {
    pki = makeTestPki();
    const files = { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile };
    const base = { port: 0, maxStreams: 8, warmDecoders: 1, logger: silent };
    const [plain, tls, mtls] = await Promise.all([
      startSpeechServer(base),
      startSpeechServer({ ...base, tls: readTlsFiles({ ...files, clientCaFile: undefined }) }),
      startSpeechServer({
        ...base,
        warmDecoders: 0,
        tls: readTlsFiles({ ...files, clientCaFile: pki.caFile }),
      }),
    ]);
    servers.push(plain, tls, mtls);
    const configFile = join(pki.dir, 'checks.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        uri: plain.address,
        // The certificate names 127.0.0.1 and localhost; gRPC checks the host it dialled.
        tls_uri: tls.address,
        mtls_uri: mtls.address,
        ca: pki.caFile,
        client_cert: pki.clientCertFile,
        client_key: pki.clientKeyFile,
        wav16: WAV16,
        wav8mulaw: WAV8_MULAW,
        boost_words: ['appointment', 'tuesday', 'morning', 'goodbye'],
        tts_text: TTS_TEXT,
        tts_rates: TTS_RATES,
        tts_stream_rates: TTS_STREAM_RATES,
        function_id: FUNCTION_ID,
      }),
    );
    const t0 = performance.now();
    results = await runChecks(configFile);
    console.log(
      `nvidia-riva-client checks: ${Math.round(performance.now() - t0)} ms in total; ` +
        Object.entries(results)
          .map(([k, v]) => `${k} ${v.ms} ms`)
          .join(', '),
    );
  }, 150_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    pki?.remove();
  });

  /** One check's result, typed as the test reads it. */
  const r = <T = Record<string, number>>(name: string): Check & T => {
    const v = results[name];
    if (!v) throw new Error(`checks.py reported nothing for ${name}`);
    return v as Check & T;
  };

  it('lists the models with type and language_code (transcribe_file.py --list-models)', () => {
    expect(r('list_models').models).toEqual([
      ['pocketsphinx-en-US-asr-streaming', 'online', 'en-US'],
      ['pocketsphinx-en-US-asr-offline', 'offline', 'en-US'],
    ]);
  });

  it('streams 16 kHz PCM with interims and word time offsets', () => {
    const s = r<{
      finals: string[];
      interims: number;
      words: [string, number, number][];
    }>('stream_pcm16k');
    expect(s.interims).toBeGreaterThan(0);
    expect(s.finals.length).toBeGreaterThanOrEqual(2);
    for (const f of s.finals) expect(f).toMatch(/\S $/);
    expect(wordErrors(SAMPLE_TEXT, s.finals.join('')).errors).toBeLessThanOrEqual(4);
    expect(s.words.length).toBeGreaterThan(5);
    for (const [, start, end] of s.words) expect(end).toBeGreaterThan(start);
    // The second caller turn starts ~4 s after the first ends: word times are from the stream start.
    expect(s.words.at(-1)![1]).toBeGreaterThan(6000);
  });

  it('streams raw WAV file bytes, header in the first chunk, with and without the rate set', () => {
    const withRate = r<{ finals: string[] }>('stream_wav_header');
    const unset = r<{ finals: string[]; interims: number }>('stream_wav_header_unset');
    expect(withRate.code).toBeUndefined();
    expect(unset.code).toBeUndefined();
    expect(wordErrors(SAMPLE_TEXT, withRate.finals.join('')).errors).toBeLessThanOrEqual(4);
    expect(unset.finals.join('')).toBe(withRate.finals.join(''));
    expect(unset.interims).toBe(0);
  });

  it('streams an 8 kHz mu-law WAV with boosted words', () => {
    const s = r<{ finals: string[]; words: unknown[] }>('stream_mulaw8k');
    expect(s.code).toBeUndefined();
    // Narrowband audio is hard for the wideband model (README: ~48 % WER); the boosted words come through.
    expect(s.finals.join('')).toMatch(/tuesday.*goodbye/);
    expect(s.words.length).toBeGreaterThan(3);
  });

  it('recognises a whole file offline; concatenated finals keep the utterances apart', () => {
    const o = r<{ results: number; final_transcript: string; words: unknown[] }>('offline_wav');
    expect(o.results).toBeGreaterThanOrEqual(2);
    expect(wordErrors(SAMPLE_TEXT, o.final_transcript).errors).toBeLessThanOrEqual(4);
    // "…morning pleasethank you…" is what finals without Riva's trailing space gave.
    // The two caller turns end and start at "tuesday | yes": without Riva's trailing space on finals
    // the client printed "tuesdayyes".
    expect(o.final_transcript).toMatch(/tuesday yes/);
    expect(o.words.length).toBeGreaterThan(5);
    const boosted = r<{ final_transcript: string }>('offline_boosted');
    expect(boosted.final_transcript).toMatch(/tuesday.*goodbye/);
  });

  it('synthesises offline at every rate asked, as headerless PCM16 of the same duration', () => {
    const bytes = r<{ bytes: Record<string, number> }>('tts_offline').bytes;
    const seconds = TTS_RATES.map((rate) => bytes[String(rate)]! / 2 / rate);
    for (const s of seconds) expect(s).toBeGreaterThan(2);
    expect(Math.max(...seconds) - Math.min(...seconds)).toBeLessThan(0.05);
  });

  it('synthesises streaming in chunks at several rates, and several requests on one stream', () => {
    const t = r<{ rates: Record<string, { chunks: number; bytes: number }>; two_requests_bytes: number }>(
      'tts_streaming',
    );
    const offline = r<{ bytes: Record<string, number> }>('tts_offline').bytes;
    for (const rate of TTS_STREAM_RATES) {
      expect(t.rates[String(rate)]!.chunks).toBeGreaterThan(5);
      expect(Math.abs(t.rates[String(rate)]!.bytes - offline[String(rate)]!)).toBeLessThan(rate * 0.05);
    }
    expect(t.two_requests_bytes).toBeGreaterThan(16000);
  });

  it('lists the voices as talk.py --list-voices prints them', () => {
    const v = r<{ voices: string[]; language_code: string }>('list_voices');
    expect(v.language_code).toBe('en-US');
    expect(v.voices).toContain('English-US.Male-1');
    expect(v.voices).toContain('English-US.Female-1');
  });

  it('accepts function-id and authorization metadata, in plaintext and over TLS', () => {
    expect(r('metadata_plaintext').bytes).toBeGreaterThan(8000);
    expect(r('tls').code).toBeUndefined();
  });

  it('serves TLS to a client with the CA (--use-ssl --ssl-root-cert) and refuses plaintext', () => {
    const t = r<{ final_transcript: string; tts_bytes: number }>('tls');
    expect(wordErrors(SAMPLE_TEXT, t.final_transcript).errors).toBeLessThanOrEqual(4);
    expect(t.tts_bytes).toBeGreaterThan(8000);
    expect(r('tls_plaintext_client').code).toBe('UNAVAILABLE');
  });

  it('requires a client certificate with mTLS', () => {
    expect(r('mtls').code).toBe('OK');
    expect(r('mtls_no_client_cert').code).toBe('UNAVAILABLE');
  });

  it('answers bad inputs with Riva status codes and texts', () => {
    const b = r('bad_inputs') as unknown as Record<string, { code: string; details?: string }>;
    const codes = Object.fromEntries(
      Object.entries(b)
        .filter(([k]) => k !== 'ms')
        .map(([k, v]) => [k, v.code]),
    );
    expect(codes).toEqual({
      unknown_language: 'INVALID_ARGUMENT',
      unknown_model: 'INVALID_ARGUMENT',
      bad_rate: 'INVALID_ARGUMENT',
      flac: 'UNIMPLEMENTED',
      no_format: 'INVALID_ARGUMENT',
      unknown_voice: 'INVALID_ARGUMENT',
      tts_unknown_language: 'INVALID_ARGUMENT',
      tts_empty_text: 'INVALID_ARGUMENT',
      tts_oggopus: 'UNIMPLEMENTED',
      json_not_protobuf: 'INTERNAL',
    });
    expect(b.unknown_language!.details).toBe(
      'Error: Unavailable model requested given these parameters: language_code=de-DE; sample_rate=16000; type=offline; ',
    );
    expect(b.bad_rate!.details).toContain('sample_rate=1234;');
  });
});

if (!haveVenv) {
  describe("NVIDIA's Python client (nvidia-riva-client)", () => {
    it.skip('needs .tools/riva-client-venv: run `bash scripts/install-riva-client.sh` (PyPI, pinned 2.27.0)', () => {});
  });
}
