/**
 * Server credentials: plaintext, TLS (certificate chain + key) or mTLS (also a client CA, and clients
 * must present a certificate it signed). The files are read once at start; a missing or unreadable
 * file stops the server with a message naming the variable.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { TlsFiles } from './config.ts';

export interface TlsMaterial {
  certChain: Buffer;
  privateKey: Buffer;
  /** Set: clients must present a certificate signed by this CA. */
  clientCa?: Buffer | undefined;
}

function read(file: string, variable: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function readTlsFiles(files: TlsFiles): TlsMaterial {
  return {
    certChain: read(files.certFile, 'SPEECH_SERVER_TLS_CERT_FILE'),
    privateKey: read(files.keyFile, 'SPEECH_SERVER_TLS_KEY_FILE'),
    clientCa: files.clientCaFile ? read(files.clientCaFile, 'SPEECH_SERVER_TLS_CLIENT_CA_FILE') : undefined,
  };
}

export function serverCredentials(tls: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ cert_chain: tls.certChain, private_key: tls.privateKey }],
    tls.clientCa !== undefined,
  );
}
