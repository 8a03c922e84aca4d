/**
 * Append-only, SHA-256 hash-chained audit log of GDPR and admin actions (Art. 30). Entries carry roles,
 * principal labels, call/request ids and counts, never subject ids or transcript text. Each entry's hash covers
 * the previous hash, so editing or deleting a row breaks verification from that row on. A database trigger
 * rejects UPDATE and DELETE; the chain catches what a superuser does anyway.
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Db } from '../db/db.ts';
import type { Database } from '../db/schema.ts';

export interface AuditEntryInput {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBrokenSeq: number | null;
}

const GENESIS = '0'.repeat(64);
const AUDIT_LOCK = 72178;

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

function entryHash(
  prevHash: string,
  e: { seq: number; at: Date; actor: string; action: string; target: string | null; details: unknown },
) {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson([e.seq, e.at.toISOString(), e.actor, e.action, e.target, e.details]))
    .digest('hex');
}

export function auditServiceFactory(deps: { db: Db; now: () => Date }) {
  async function appendIn(trx: Kysely<Database>, input: AuditEntryInput): Promise<number> {
    await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const seq = last ? Number(last.seq) + 1 : 1;
    const prevHash = last?.hash ?? GENESIS;
    // Millisecond precision so the timestamp round-trips through timestamptz unchanged.
    const at = new Date(deps.now().getTime());
    const details = JSON.parse(canonicalJson(input.details ?? {})) as unknown;
    const target = input.target ?? null;
    const hash = entryHash(prevHash, { seq, at, actor: input.actor, action: input.action, target, details });
    await trx
      .insertInto('audit_log')
      .values({
        seq,
        at,
        actor: input.actor,
        action: input.action,
        target,
        details: canonicalJson(details),
        prev_hash: prevHash,
        hash,
      })
      .execute();
    return seq;
  }

  return {
    /** Appends inside the caller's transaction (so the entry commits with the action) or in its own. */
    async append(input: AuditEntryInput, trx?: Kysely<Database>): Promise<number> {
      if (trx) return appendIn(trx, input);
      return deps.db.kysely.transaction().execute((t) => appendIn(t, input));
    },

    async list(options: { afterSeq?: number; limit: number }) {
      const rows = await deps.db.kysely
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', options.afterSeq ?? 0)
        .orderBy('seq')
        .limit(options.limit)
        .execute();
      return rows.map((r) => ({
        seq: Number(r.seq),
        at: new Date(r.at).toISOString(),
        actor: r.actor,
        action: r.action,
        target: r.target,
        details: r.details as Record<string, unknown>,
        hash: r.hash,
      }));
    },

    /** Recomputes the whole chain in batches. */
    async verify(): Promise<AuditVerification> {
      let prevHash = GENESIS;
      let expectedSeq = 1;
      let checked = 0;
      for (;;) {
        const rows = await deps.db.kysely
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '>=', expectedSeq)
          .orderBy('seq')
          .limit(1000)
          .execute();
        if (rows.length === 0) return { ok: true, checked, firstBrokenSeq: null };
        for (const r of rows) {
          const seq = Number(r.seq);
          const hash = entryHash(prevHash, {
            seq,
            at: new Date(r.at),
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: r.details,
          });
          if (seq !== expectedSeq || r.prev_hash !== prevHash || r.hash !== hash) {
            return { ok: false, checked, firstBrokenSeq: expectedSeq };
          }
          prevHash = r.hash;
          expectedSeq += 1;
          checked += 1;
        }
      }
    },
  };
}

export type AuditService = ReturnType<typeof auditServiceFactory>;
