/**
 * The audit log's signed head: the sequence number and hash of the last entry this process has checked, kept
 * in a file outside the database (by default next to the key store, `AUDIT_HEAD_FILE`) and signed with a key
 * derived from the audit key. The chain alone cannot show that entries were removed from its end or that the
 * table was emptied; the head can, because it says how far the log had already reached. It only ever moves
 * forward.
 *
 * The file is replaced atomically (write a temporary file, fsync, rename, fsync the directory), so a crash
 * leaves either the old head or the new one.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KEYED_ALG } from './audit-chain.ts';

export interface AuditHead {
  seq: number;
  hash: string;
  /** When this process recorded the head (ISO 8601). */
  at: string;
}

export interface SignedAuditHead extends AuditHead {
  alg: typeof KEYED_ALG;
  /** hex HMAC-SHA256 over `seq:hash:at` under the head key. */
  signature: string;
}

export type HeadFileState =
  | { state: 'absent' }
  | { state: 'invalid' }
  | { state: 'valid'; head: SignedAuditHead };

const HASH = /^[0-9a-f]{64}$/;

export function createAuditHeadSigner(auditKey: Buffer) {
  const headKey = Buffer.from(hkdfSync('sha256', auditKey, Buffer.alloc(0), 'riva-audit-head-v1', 32));
  const mac = (h: AuditHead) =>
    createHmac('sha256', headKey).update(`riva-audit-head:${h.seq}:${h.hash}:${h.at}`).digest();
  return {
    sign(head: AuditHead): SignedAuditHead {
      return { ...head, alg: KEYED_ALG, signature: mac(head).toString('hex') };
    },
    /** The head if `value` is a well-formed head with a valid signature. */
    check(value: unknown): SignedAuditHead | undefined {
      const v = value as Partial<SignedAuditHead> | null;
      if (
        !v ||
        typeof v !== 'object' ||
        !Number.isSafeInteger(v.seq) ||
        (v.seq ?? -1) < 0 ||
        typeof v.hash !== 'string' ||
        !HASH.test(v.hash) ||
        typeof v.at !== 'string' ||
        typeof v.signature !== 'string' ||
        !HASH.test(v.signature)
      ) {
        return undefined;
      }
      const head = { seq: v.seq as number, hash: v.hash, at: v.at };
      const ok = timingSafeEqual(mac(head), Buffer.from(v.signature, 'hex'));
      return ok ? { ...head, alg: KEYED_ALG, signature: v.signature } : undefined;
    },
  };
}

export type AuditHeadSigner = ReturnType<typeof createAuditHeadSigner>;

export function createAuditHeadFile(deps: { path: string; signer: AuditHeadSigner }) {
  return {
    path: deps.path,
    async read(): Promise<HeadFileState> {
      let text: string;
      try {
        text = await readFile(deps.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
        throw err;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { state: 'invalid' };
      }
      const head = deps.signer.check(parsed);
      return head ? { state: 'valid', head } : { state: 'invalid' };
    },

    async write(head: SignedAuditHead): Promise<void> {
      const dir = dirname(deps.path);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${deps.path}.${process.pid}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(head)}\n`);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, deps.path);
      const d = await open(dir, 'r');
      try {
        await d.sync();
      } catch {
        // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
      } finally {
        await d.close();
      }
    },
  };
}

export type AuditHeadFile = ReturnType<typeof createAuditHeadFile>;
