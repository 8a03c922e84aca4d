/**
 * The audit chain's hashing rules, with no I/O. Each entry's hash covers the previous entry's hash and the
 * entry itself (canonical JSON), so changing or removing any entry changes every hash after it.
 *
 * Entries are keyed: HMAC-SHA256 under the audit key (AUDIT_HMAC_KEY, never stored in the database), so someone
 * who can write the table but does not hold the key cannot recompute a valid chain after a rewrite. Entries
 * written before the key existed (`alg = 'sha256'`, plain SHA-256) are accepted only before the first keyed one.
 */
import { createHash, createHmac } from 'node:crypto';

export const GENESIS = '0'.repeat(64);
export const KEYED_ALG = 'hmac-sha256';
export const LEGACY_ALG = 'sha256';

/** JSON with object keys sorted, so jsonb's key reordering does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export interface ChainEntry {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
}

/** A stored row as the verifier sees it. */
export interface ChainRow extends ChainEntry {
  prevHash: string;
  hash: string;
  alg: string;
}

function material(e: ChainEntry): string {
  return canonicalJson([e.seq, e.at.toISOString(), e.actor, e.action, e.target, e.details]);
}

/** The keyed hash of an entry that follows `prevHash`. */
export function keyedHash(key: Buffer, prevHash: string, e: ChainEntry): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(material(e)).digest('hex');
}

/** The unkeyed hash older entries carry. */
export function legacyHash(prevHash: string, e: ChainEntry): string {
  return createHash('sha256').update(prevHash).update('\n').update(material(e)).digest('hex');
}

export type ChainBreak = 'rewritten' | 'gap' | 'unkeyed_after_keyed';

/**
 * Walks rows in sequence order, carrying the running state between batches. `check` returns the reason the
 * row breaks the chain, or null and advances the state.
 */
export function createChainWalker(key: Buffer, start: { seq: number; hash: string; keyedSeen: boolean }) {
  const state = { nextSeq: start.seq + 1, prevHash: start.hash, keyedSeen: start.keyedSeen };
  return {
    state,
    check(r: ChainRow): ChainBreak | null {
      if (r.seq !== state.nextSeq) return 'gap';
      if (r.prevHash !== state.prevHash) return 'rewritten';
      if (r.alg === KEYED_ALG) {
        if (r.hash !== keyedHash(key, state.prevHash, r)) return 'rewritten';
        state.keyedSeen = true;
      } else if (r.alg === LEGACY_ALG && !state.keyedSeen) {
        if (r.hash !== legacyHash(state.prevHash, r)) return 'rewritten';
      } else {
        return r.alg === LEGACY_ALG ? 'unkeyed_after_keyed' : 'rewritten';
      }
      state.prevHash = r.hash;
      state.nextSeq += 1;
      return null;
    },
  };
}
