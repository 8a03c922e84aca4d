/**
 * Where per-subject data keys (DEKs) live. Not in database rows: MVCC, WAL and backups keep old row versions,
 * so a key deleted from a table is not gone. A key store's `destroy` is final: once it returns, no copy of the
 * key that this service wrote can be read back, and every ciphertext under it is noise.
 *
 * Two implementations: `file` (embedded default, fixed-size slots overwritten in place, see file-key-store.ts)
 * and `vault` (HashiCorp Vault transit, one transit key per subject, see vault-key-store.ts).
 */
import type { KeyringService } from '../lib/crypto.ts';
import { createFileKeyStore } from './file-key-store.ts';
import { createVaultKeyStore } from './vault-key-store.ts';

export interface SubjectKeyStore {
  readonly kind: 'file' | 'vault';
  /** The subject's DEK, created when it has none yet. Concurrent calls for one subject get the same key. */
  dataKey(subjectRef: string): Promise<Buffer>;
  /** The subject's DEK, or undefined if it never had one or it was destroyed. */
  existingDataKey(subjectRef: string): Promise<Buffer | undefined>;
  /** Destroys the subject's DEK for good; true if there was one. Idempotent. */
  destroy(subjectRef: string): Promise<boolean>;
  /** Re-wraps every DEK held under an older master key with the active one; returns how many. */
  rewrapAll(): Promise<number>;
  close(): Promise<void>;
}

export type KeyStoreConfig =
  | { kind: 'file'; dir: string }
  | {
      kind: 'vault';
      addr: string;
      token: string;
      namespace: string | undefined;
      mount: string;
      keyPrefix: string;
      timeoutSeconds: number;
    };

export function createKeyStore(config: KeyStoreConfig, keyring: KeyringService): SubjectKeyStore {
  if (config.kind === 'file') return createFileKeyStore({ dir: config.dir, keyring });
  return createVaultKeyStore(config);
}
