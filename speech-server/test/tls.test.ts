/**
 * TLS and mTLS: SPEECH_SERVER_TLS_CERT_FILE + SPEECH_SERVER_TLS_KEY_FILE turn TLS on,
 * SPEECH_SERVER_TLS_CLIENT_CA_FILE also requires a client certificate signed by that CA. Certificates
 * are made by the test with the openssl CLI.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/src/config.ts';
import { createLogger } from '../../common/src/logger.ts';
import { loadRivaProtos } from '../../proto/src/index.ts';
import { loadSpeechServerConfig } from '../src/config.ts';
import { type SpeechServer, startSpeechServer } from '../src/server.ts';
import { readTlsFiles } from '../src/tls.ts';
import { makeTestPki, type TestPki } from './certs.ts';

const silent = createLogger({ level: 'silent', service: 'speech-server-test' });
let pki: TestPki;
let tlsServer: SpeechServer;
let mtlsServer: SpeechServer;

beforeAll(async () => {
  pki = makeTestPki();
  const files = { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile };
  tlsServer = await startSpeechServer({
    port: 0,
    warmDecoders: 0,
    logger: silent,
    tls: readTlsFiles({ ...files, clientCaFile: undefined }),
  });
  mtlsServer = await startSpeechServer({
    port: 0,
    warmDecoders: 0,
    logger: silent,
    tls: readTlsFiles({ ...files, clientCaFile: pki.caFile }),
  });
});

afterAll(async () => {
  await tlsServer?.stop();
  await mtlsServer?.stop();
  pki?.remove();
});

/** GetRivaSynthesisConfig over the given credentials: the status code (0 = OK). */
function configCall(address: string, creds: grpc.ChannelCredentials): Promise<grpc.status> {
  const client = new (loadRivaProtos().tts.RivaSpeechSynthesis)(address, creds);
  return new Promise<grpc.status>((resolve) =>
    client.GetRivaSynthesisConfig({}, { deadline: Date.now() + 5000 }, (err) => {
      client.close();
      resolve(err?.code ?? grpc.status.OK);
    }),
  );
}

describe('TLS', () => {
  it('serves clients that trust its CA and refuses plaintext ones', async () => {
    const ca = pki.read(pki.caFile);
    expect(await configCall(tlsServer.address, grpc.credentials.createSsl(ca))).toBe(grpc.status.OK);
    expect(await configCall(tlsServer.address, grpc.credentials.createInsecure())).toBe(
      grpc.status.UNAVAILABLE,
    );
    // A client that does not trust the server's CA fails the handshake.
    expect(await configCall(tlsServer.address, grpc.credentials.createSsl())).toBe(grpc.status.UNAVAILABLE);
  });

  it('with a client CA, serves only clients presenting a certificate it signed (mTLS)', async () => {
    const ca = pki.read(pki.caFile);
    const withCert = grpc.credentials.createSsl(
      ca,
      pki.read(pki.clientKeyFile),
      pki.read(pki.clientCertFile),
    );
    expect(await configCall(mtlsServer.address, withCert)).toBe(grpc.status.OK);
    expect(await configCall(mtlsServer.address, grpc.credentials.createSsl(ca))).toBe(
      grpc.status.UNAVAILABLE,
    );
  });

  it('needs both certificate and key, and names the variable of an unreadable file', () => {
    const base = { SPEECH_SERVER_TLS_CERT_FILE: pki.serverCertFile };
    expect(() => loadSpeechServerConfig(base)).toThrow(ConfigError);
    expect(() => loadSpeechServerConfig({ SPEECH_SERVER_TLS_CLIENT_CA_FILE: pki.caFile })).toThrow(
      /SPEECH_SERVER_TLS_CLIENT_CA_FILE/,
    );
    const config = loadSpeechServerConfig({ ...base, SPEECH_SERVER_TLS_KEY_FILE: pki.serverKeyFile });
    expect(config.tlsFiles).toEqual({
      certFile: pki.serverCertFile,
      keyFile: pki.serverKeyFile,
      clientCaFile: undefined,
    });
    expect(() =>
      readTlsFiles({
        certFile: pki.serverCertFile,
        keyFile: `${pki.dir}/missing.key`,
        clientCaFile: undefined,
      }),
    ).toThrow(/SPEECH_SERVER_TLS_KEY_FILE/);
  });
});
