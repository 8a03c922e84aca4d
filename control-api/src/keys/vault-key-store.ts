/**
 * Production key store on HashiCorp Vault's transit engine. Each subject gets its own transit key
 * (`<prefix><sha256(subjectRef)[0..32]>`, type aes256-gcm96, created on first use). The subject's DEK is the
 * transit HMAC-SHA256 of a fixed label under key version 1 of that key (`POST /v1/<mount>/hmac/<name>/sha2-256`),
 * so nothing needs to be stored anywhere else: the DEK exists only while Vault holds the subject's key.
 * Destroy sets `deletion_allowed` and deletes the key (`DELETE /v1/<mount>/keys/<name>`): Vault removes every
 * version, and no copy of the key exists outside Vault's barrier.
 *
 * Master key rotation is Vault's (seal and barrier rotation); `rewrapAll` has nothing to do and returns 0.
 * The Vault token needs `create`/`update` on `<mount>/keys/<prefix>*`, `<mount>/keys/<prefix>*\/config` and
 * `<mount>/hmac/<prefix>*`, and `delete` on `<mount>/keys/<prefix>*`.
 */
import { createHash, hkdfSync } from 'node:crypto';
import type { SubjectKeyStore } from './key-store.ts';

export interface VaultKeyStoreConfig {
  addr: string;
  token: string;
  namespace: string | undefined;
  mount: string;
  keyPrefix: string;
  timeoutSeconds: number;
}

const DEK_LABEL = Buffer.from('riva-subject-dek-v1').toString('base64');

export class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(`vault answered ${status}: ${errors.join('; ')}`);
    this.name = 'VaultError';
  }
}

export function createVaultKeyStore(config: VaultKeyStoreConfig): SubjectKeyStore {
  const base = config.addr.replace(/\/+$/, '');
  const mount = config.mount.replace(/^\/+|\/+$/g, '');
  const keyName = (ref: string) =>
    `${config.keyPrefix}${createHash('sha256').update(ref).digest('hex').slice(0, 32)}`;

  async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown> | null> {
    const headers: Record<string, string> = { 'x-vault-token': config.token, 'x-vault-request': 'true' };
    if (config.namespace) headers['x-vault-namespace'] = config.namespace;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}/v1/${mount}/${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(config.timeoutSeconds * 1000),
    });
    const text = await res.text();
    const json = text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : null;
    if (!res.ok) {
      const errors = Array.isArray(json?.errors) ? (json.errors as unknown[]).map(String) : [];
      throw new VaultError(res.status, errors);
    }
    return json;
  }

  /** Vault answers 400 ("encryption key not found", "no existing key named … could be found") or 404. */
  const isMissing = (err: unknown) =>
    err instanceof VaultError &&
    (err.status === 404 ||
      (err.status === 400 && err.errors.some((e) => /not found|could be found|no existing key/i.test(e))));

  async function hmacKey(ref: string): Promise<Buffer> {
    const out = await call('POST', `hmac/${keyName(ref)}/sha2-256`, { input: DEK_LABEL, key_version: 1 });
    const hmac = (out?.data as { hmac?: unknown } | undefined)?.hmac;
    if (typeof hmac !== 'string' || !hmac.startsWith('vault:v1:')) {
      throw new Error('vault hmac answer has no vault:v1: value');
    }
    const mac = Buffer.from(hmac.slice('vault:v1:'.length), 'base64');
    return Buffer.from(hkdfSync('sha256', mac, Buffer.alloc(0), `dek:${ref}`, 32));
  }

  return {
    kind: 'vault',
    async dataKey(ref) {
      try {
        return await hmacKey(ref);
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
      // Creating an existing key is a no-op in Vault, so concurrent creators end up with the same key.
      await call('POST', `keys/${keyName(ref)}`, { type: 'aes256-gcm96', exportable: false });
      return hmacKey(ref);
    },
    async existingDataKey(ref) {
      try {
        return await hmacKey(ref);
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async destroy(ref) {
      const name = keyName(ref);
      try {
        await call('POST', `keys/${name}/config`, { deletion_allowed: true });
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
      await call('DELETE', `keys/${name}`);
      return true;
    },
    async rewrapAll() {
      return 0;
    },
    async close() {},
  };
}
