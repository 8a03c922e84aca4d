/**
 * Envelope encryption for transcript text. Each subject has a random 256-bit data key (DEK); the DEK is stored
 * only wrapped (AES-256-GCM) under a master key (KEK) named by id, so master keys can rotate. Destroying the
 * wrapped DEK row makes every ciphertext of that subject unreadable (crypto-shredding).
 *
 * Subjects are looked up by `subjectRef`, an HMAC-SHA256 of the subject id under a key derived from the index
 * master key, so no column holds the subject id itself.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface Keyring {
  keys: ReadonlyMap<string, Buffer>;
  activeKeyId: string;
  indexKeyId: string;
}

export interface WrappedKey {
  kekId: string;
  /** nonce (12) || ciphertext (32) || tag (16) */
  wrapped: Buffer;
}

export interface Sealed {
  nonce: Buffer;
  /** ciphertext || tag (16) */
  ciphertext: Buffer;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptionError extends Error {
  constructor() {
    super('decryption failed');
    this.name = 'DecryptionError';
  }
}

export function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

export function open(key: Buffer, sealed: Sealed, aad: string): Buffer {
  if (sealed.ciphertext.length < TAG_BYTES) throw new DecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new DecryptionError();
  }
}

export function createKeyring(keyring: Keyring) {
  const indexKey = keyring.keys.get(keyring.indexKeyId);
  if (!indexKey) throw new Error('index key missing from keyring');
  const hmacKey = Buffer.from(hkdfSync('sha256', indexKey, Buffer.alloc(0), 'riva-subject-ref-v1', 32));

  function kek(id: string): Buffer {
    const key = keyring.keys.get(id);
    if (!key) throw new Error(`master key ${id} is not configured`);
    return key;
  }

  return {
    activeKeyId: keyring.activeKeyId,
    /** Stable pseudonymous reference for a subject id. */
    subjectRef(subjectId: string): string {
      return createHmac('sha256', hmacKey).update(subjectId, 'utf8').digest('base64url');
    },
    newDataKey(): Buffer {
      return randomBytes(32);
    },
    wrap(dek: Buffer, subjectRef: string): WrappedKey {
      const sealed = seal(kek(keyring.activeKeyId), dek, `dek:${subjectRef}`);
      return { kekId: keyring.activeKeyId, wrapped: Buffer.concat([sealed.nonce, sealed.ciphertext]) };
    },
    unwrap(key: WrappedKey, subjectRef: string): Buffer {
      const buf = Buffer.from(key.wrapped);
      return open(
        kek(key.kekId),
        { nonce: buf.subarray(0, NONCE_BYTES), ciphertext: buf.subarray(NONCE_BYTES) },
        `dek:${subjectRef}`,
      );
    },
  };
}

export type KeyringService = ReturnType<typeof createKeyring>;
