import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { APIConnectionError, APITimeoutError } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHealth,
  createRivaChannel,
  listAsrModels,
  listTtsVoices,
  parseRivaUrl,
  STT,
  TTS,
} from '../src/index.ts';
import { codedAudio, FakeRiva } from './fake-riva.ts';
import { collect, framesOf } from './helpers.ts';

describe('parseRivaUrl', () => {
  it('accepts host:port, grpc:// and grpcs:// (TLS)', () => {
    expect(parseRivaUrl('localhost:50051')).toEqual({ target: 'localhost:50051', tls: false });
    expect(parseRivaUrl('grpc://10.0.0.5:50051')).toEqual({ target: '10.0.0.5:50051', tls: false });
    expect(parseRivaUrl('grpcs://grpc.nvcf.nvidia.com:443')).toEqual({
      target: 'grpc.nvcf.nvidia.com:443',
      tls: true,
    });
    expect(parseRivaUrl('[::1]:50051')).toEqual({ target: '[::1]:50051', tls: false });
  });

  it.each([
    ['', 'empty'],
    ['riva', 'missing or malformed host:port'],
    ['riva:notaport', 'missing or malformed host:port'],
    ['riva:70000', 'out of range'],
    ['http://riva:50051', 'unsupported scheme "http"'],
    ['grpcs://riva:443/v1/asr', 'a path is not allowed'],
  ])('rejects %j with a clear message (%s)', (url, why) => {
    expect(() => parseRivaUrl(url)).toThrow(why);
    expect(() => parseRivaUrl(url)).toThrow(`Invalid Riva url ${JSON.stringify(url)}`);
  });

  it('STT and TTS fail at construction on a bad url', () => {
    expect(() => new STT({ connection: { url: 'http://riva' } })).toThrow(/Invalid Riva url "http:\/\/riva"/);
    expect(() => new TTS({ connection: { url: 'riva' } })).toThrow(/Invalid Riva url "riva"/);
  });
});

describe('RivaChannel against a live server', () => {
  const fake = new FakeRiva({ configFailFirst: 2 });
  let url = '';
  beforeAll(async () => {
    url = await fake.start();
  });
  afterAll(() => fake.stop());

  it('sends authorization and function-id metadata on every call (streams and unary)', async () => {
    const conn = { url, apiKey: 'nvapi-secret', functionId: 'fn-123', metadata: { 'x-trace': 'abc' } };
    const s = new STT({ connection: conn });
    const t = new TTS({ connection: conn });
    const stream = s.stream();
    for (const f of framesOf(codedAudio(['alpha'], 16000), 16000, [320])) stream.pushFrame(f);
    stream.endInput();
    await collect(stream, () => false);
    await t.synthesize('Hi.').collect();
    const ch = createRivaChannel(conn);
    expect(await checkHealth(ch)).toBe('SERVING');
    const all = [
      fake.asrStreams.at(-1)!.metadata,
      fake.ttsCalls.at(-1)!.metadata,
      fake.unaryCalls.at(-1)!.metadata,
    ];
    for (const md of all) {
      expect(md.get('authorization')).toEqual(['Bearer nvapi-secret']);
      expect(md.get('function-id')).toEqual(['fn-123']);
      expect(md.get('x-trace')).toEqual(['abc']);
    }
    ch.close();
    await s.close();
    await t.close();
  });

  it('keeps the API key out of error messages', async () => {
    const guarded = new FakeRiva({ requireAuth: { authorization: 'Bearer right' } });
    const gurl = await guarded.start();
    const t = new TTS({ connection: { url: gurl, apiKey: 'wrong-key-123' } });
    const errors: Error[] = [];
    t.on('error', (e) => errors.push(e.error));
    const s = t.stream();
    s.pushText('Hello.');
    s.endInput();
    for await (const _ of s) {
      // drain
    }
    expect(errors[0]?.message).toContain('UNAUTHENTICATED');
    expect(String(errors[0])).not.toContain('wrong-key-123');
    await t.close();
    await guarded.stop();
  });

  it('retries unary calls on UNAVAILABLE through the service-config retry policy', async () => {
    const ch = createRivaChannel({ url });
    const before = fake.unaryCalls.length;
    const models = await listAsrModels(ch);
    expect(models).toEqual([
      { name: 'fake-asr-streaming', type: 'online', languageCode: 'en-US', parameters: expect.any(Object) },
    ]);
    // Two UNAVAILABLE answers, then success: three attempts on the wire, one call for the caller.
    expect(fake.unaryCalls.length - before).toBe(3);
    const voices = await listTtsVoices(ch);
    expect(voices[0]).toMatchObject({
      voiceName: 'English-US.Female-1',
      subvoices: ['Female-1:0', 'Male-1:1'],
    });
    ch.close();
  });

  it('applies deadlines to unary calls (DEADLINE_EXCEEDED → APITimeoutError)', async () => {
    const slow = new FakeRiva({ unaryDelayMs: 2000 });
    const surl = await slow.start();
    const ch = createRivaChannel({ url: surl, unaryTimeoutMs: 50 });
    const t0 = performance.now();
    const err = await listAsrModels(ch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APITimeoutError);
    expect((err as Error).message).toContain('DEADLINE_EXCEEDED');
    expect(performance.now() - t0).toBeLessThan(1500);
    // recognize() (unary Recognize) honours it too.
    const s = new STT({ connection: ch });
    const pcm = codedAudio(['alpha'], 16000);
    await expect(s.recognize(new AudioFrame(pcm, 16000, 1, pcm.length))).rejects.toBeInstanceOf(
      APITimeoutError,
    );
    ch.close();
    await slow.stop();
  });

  it('an unreachable Riva gives an error naming the target', async () => {
    const ch = createRivaChannel({ url: '127.0.0.1:1', unaryMaxAttempts: 1 });
    const err = await checkHealth(ch, '', 500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect((err as Error).message).toMatch(
      /Riva health check at 127\.0\.0\.1:1 failed: (UNAVAILABLE|DEADLINE_EXCEEDED)/,
    );
    await expect(ch.waitForReady(200)).rejects.toThrow('Riva at 127.0.0.1:1 is not reachable');
    ch.close();
  });
});

describe('TLS', () => {
  let dir = '';
  let ca: Buffer;
  let key: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'riva-tls-'));
    // A self-signed CA-capable certificate for 127.0.0.1, generated fresh for this run.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'));
    key = readFileSync(join(dir, 'key.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('talks to a TLS server with a custom CA (grpcs://), and plaintext cannot', async () => {
    const fake = new FakeRiva();
    const addr = await fake.start(
      grpc.ServerCredentials.createSsl(null, [{ cert_chain: ca, private_key: key }], false),
    );
    const t = new TTS({ connection: { url: `grpcs://${addr}`, caCert: ca } });
    expect(t.channel.tls).toBe(true);
    const frame = await t.synthesize('Secure.').collect();
    expect(frame.samplesPerChannel).toBe(7 * 160);
    const plain = createRivaChannel({ url: addr, unaryMaxAttempts: 1 });
    await expect(checkHealth(plain, '', 1000)).rejects.toBeInstanceOf(APIConnectionError);
    plain.close();
    await t.close();
    await fake.stop();
  });

  it('does mutual TLS: the server requires and checks a client certificate', async () => {
    const fake = new FakeRiva();
    const addr = await fake.start(
      grpc.ServerCredentials.createSsl(ca, [{ cert_chain: ca, private_key: key }], true),
    );
    const ok = createRivaChannel({ url: addr, tls: true, caCert: ca, clientCert: ca, clientKey: key });
    expect(await checkHealth(ok)).toBe('SERVING');
    const noClientCert = createRivaChannel({ url: addr, caCert: ca, unaryMaxAttempts: 1 });
    await expect(checkHealth(noClientCert, '', 1000)).rejects.toBeInstanceOf(APIConnectionError);
    ok.close();
    noClientCert.close();
    await fake.stop();
  });

  it('rejects half an mTLS pair at construction', () => {
    expect(() => createRivaChannel({ url: 'riva:443', clientCert: Buffer.from('x') })).toThrow(
      '"clientCert" and "clientKey" must be given together',
    );
  });
});
