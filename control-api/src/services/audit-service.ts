/**
 * Append-only, keyed hash-chained audit log of GDPR and admin actions (Art. 30). Entries carry roles,
 * principal labels, call/request ids and counts, never subject ids or transcript text.
 *
 * Three layers, each catching what the one before cannot:
 *  - database triggers refuse UPDATE, DELETE and TRUNCATE (migrations 001, 002);
 *  - the chain is HMAC-SHA256 under a key outside the database (audit/audit-chain.ts), so a rewritten row
 *    cannot be re-chained by someone who can only write the table;
 *  - a signed head (audit/audit-head.ts) outside the table records how far the log had reached, so deleting
 *    the last entries or emptying the table is caught too. It is exported in a log line, the `audit_head_seq`
 *    gauge and `GET /v1/audit/head`, so an external witness can hold a copy no one on this host can change.
 *
 * The head advances through `witness()`: after every append (once the appending transaction has committed:
 * it waits for the append lock), at start-up and after a successful verification. It checks the entries it has
 * not seen yet before moving forward, and never moves backwards.
 */
import { type Kysely, sql } from 'kysely';
import type { Logger } from '../../../common/src/logger.ts';
import {
  type ChainBreak,
  canonicalJson,
  createChainWalker,
  GENESIS,
  KEYED_ALG,
  keyedHash,
} from '../audit/audit-chain.ts';
import type { AuditHeadFile, AuditHeadSigner, SignedAuditHead } from '../audit/audit-head.ts';
import type { Db } from '../db/db.ts';
import type { Database } from '../db/schema.ts';
import type { ControlApiMetrics } from '../metrics.ts';

export { canonicalJson };

export interface AuditEntryInput {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
}

export type AuditBreak =
  | ChainBreak
  /** The log ends before the signed head: entries were deleted from its end, or the table was emptied. */
  | 'tail_missing'
  /** The entry at the head's sequence number has another hash: the log was rewritten up to there. */
  | 'head_mismatch'
  /** The head file exists but is not a head signed with the audit key. */
  | 'head_invalid';

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBrokenSeq: number | null;
  reason: AuditBreak | null;
  /** The signed head the log was checked against (null before the first entry was witnessed). */
  head: { seq: number; hash: string } | null;
}

export interface AuditServiceDeps {
  db: Db;
  now: () => Date;
  /** The chain key (AUDIT_HMAC_KEY or derived from ENCRYPTION_KEY); never stored in the database. */
  key: Buffer;
  headFile: AuditHeadFile;
  signer: AuditHeadSigner;
  logger: Logger;
  metrics: Pick<ControlApiMetrics, 'auditHeadSeq' | 'auditChainValid'>;
}

const AUDIT_LOCK = 72178;
const BATCH = 1000;

type Checkpoint = { seq: number; hash: string };

interface WalkResult {
  checked: number;
  last: (Checkpoint & { keyed: boolean }) | null;
  broken: { seq: number; reason: AuditBreak } | null;
}

export function auditServiceFactory(deps: AuditServiceDeps) {
  const db = deps.db.kysely;
  /** The newest head this process trusts: loaded from the file once, then advanced by the witness. */
  let head: SignedAuditHead | undefined;
  let headFileInvalid = false;
  let loading: Promise<void> | undefined;
  let witnessing: Promise<void> | null = null;
  let witnessAgain = false;

  const load = () => {
    loading ??= deps.headFile.read().then((file) => {
      if (file.state === 'valid') head = file.head;
      headFileInvalid = file.state === 'invalid';
      if (head) publish(head);
    });
    return loading;
  };

  function publish(h: SignedAuditHead) {
    deps.metrics.auditHeadSeq.reset();
    deps.metrics.auditHeadSeq.set({ hash: h.hash.slice(0, 16) }, h.seq);
  }

  function broken(reason: AuditBreak, firstBrokenSeq: number | null) {
    deps.metrics.auditChainValid.set(0);
    deps.logger.error({ reason, firstBrokenSeq }, 'audit log verification failed');
  }

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
    const entry = { seq, at, actor: input.actor, action: input.action, target, details };
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
        hash: keyedHash(deps.key, prevHash, entry),
        alg: KEYED_ALG,
      })
      .execute();
    // The witness waits for this transaction's lock, so it sees the entry once (and only if) it commits.
    void witness();
    return seq;
  }

  /**
   * Checks the entries after `from` in order, up to `untilSeq` if given; notes whether each checkpoint's
   * entry carries the expected hash.
   */
  async function walk(
    from: Checkpoint & { keyed: boolean },
    options: { untilSeq?: number; checkpoints?: Checkpoint[] } = {},
  ): Promise<WalkResult> {
    const walker = createChainWalker(deps.key, { seq: from.seq, hash: from.hash, keyedSeen: from.keyed });
    const checkpoints = new Map((options.checkpoints ?? []).map((c) => [c.seq, c.hash]));
    let checked = 0;
    let last: WalkResult['last'] = from.seq > 0 ? from : null;
    for (;;) {
      let q = db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>=', walker.state.nextSeq)
        .orderBy('seq')
        .limit(BATCH);
      if (options.untilSeq !== undefined) q = q.where('seq', '<=', options.untilSeq);
      const rows = await q.execute();
      for (const r of rows) {
        const row = {
          seq: Number(r.seq),
          at: new Date(r.at),
          actor: r.actor,
          action: r.action,
          target: r.target,
          details: r.details,
          prevHash: r.prev_hash,
          hash: r.hash,
          alg: r.alg,
        };
        const reason = walker.check(row);
        if (reason) return { checked, last, broken: { seq: walker.state.nextSeq, reason } };
        const expected = checkpoints.get(row.seq);
        if (expected !== undefined && expected !== row.hash) {
          return { checked, last, broken: { seq: row.seq, reason: 'head_mismatch' } };
        }
        checked += 1;
        last = { seq: row.seq, hash: row.hash, keyed: row.alg === KEYED_ALG };
      }
      if (rows.length < BATCH) return { checked, last, broken: null };
    }
  }

  /** One witness pass: checks the entries committed since the head and moves the head to the newest. */
  async function witnessOnce(): Promise<void> {
    await load();
    if (headFileInvalid) {
      broken('head_invalid', null);
      return;
    }
    // Taking the append lock waits for appends in flight, so the tip read here is committed.
    const tip = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);
      return trx
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
    });
    const tipSeq = tip ? Number(tip.seq) : 0;
    if (head && tipSeq < head.seq) return broken('tail_missing', tipSeq + 1);
    if (head && tipSeq === head.seq) {
      if (tip?.hash !== head.hash) broken('head_mismatch', head.seq);
      return;
    }
    if (!tip) return;
    let from: Checkpoint & { keyed: boolean } = { seq: 0, hash: GENESIS, keyed: false };
    if (head) {
      const at = await db
        .selectFrom('audit_log')
        .select(['hash', 'alg'])
        .where('seq', '=', head.seq)
        .executeTakeFirst();
      if (at?.hash !== head.hash) return broken('head_mismatch', head.seq);
      from = { seq: head.seq, hash: head.hash, keyed: at.alg === KEYED_ALG };
    }
    const result = await walk(from, { untilSeq: tipSeq });
    if (result.broken) return broken(result.broken.reason, result.broken.seq);
    if (!result.last || (head && result.last.seq <= head.seq)) return;
    const next = deps.signer.sign({
      seq: result.last.seq,
      hash: result.last.hash,
      at: deps.now().toISOString(),
    });
    await deps.headFile.write(next);
    head = next;
    publish(next);
    deps.metrics.auditChainValid.set(1);
    deps.logger.info({ auditHead: { seq: next.seq, hash: next.hash } }, 'audit head advanced');
  }

  /** Runs witness passes one at a time; a request during a pass gets one more pass after it. */
  function witness(): Promise<void> {
    if (witnessing) {
      witnessAgain = true;
      return witnessing;
    }
    witnessing = (async () => {
      do {
        witnessAgain = false;
        await witnessOnce().catch((err: unknown) => {
          deps.logger.warn({ err }, 'audit witness pass failed');
        });
      } while (witnessAgain);
    })().finally(() => {
      witnessing = null;
    });
    return witnessing;
  }

  return {
    /** Appends inside the caller's transaction (so the entry commits with the action) or in its own. */
    async append(input: AuditEntryInput, trx?: Kysely<Database>): Promise<number> {
      if (trx) return appendIn(trx, input);
      return db.transaction().execute((t) => appendIn(t, input));
    },

    async list(options: { afterSeq?: number; limit: number }) {
      const rows = await db
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

    /**
     * Recomputes the whole chain and checks it against the signed head (and against `witnessed`, a head an
     * external witness recorded earlier): a rewrite, a missing tail and an emptied table all fail.
     */
    async verify(witnessed?: Checkpoint): Promise<AuditVerification> {
      await load();
      // Read the head before the rows: entries are only ever added, so the rows read next reach at least here.
      const file = await deps.headFile.read();
      let against = head;
      if (file.state === 'valid' && (!against || file.head.seq > against.seq)) against = file.head;
      const headView = against ? { seq: against.seq, hash: against.hash } : null;
      const checkpoints = [...(against ? [against] : []), ...(witnessed ? [witnessed] : [])];
      const result = await walk({ seq: 0, hash: GENESIS, keyed: false }, { checkpoints });
      const fail = (reason: AuditBreak, firstBrokenSeq: number | null): AuditVerification => {
        broken(reason, firstBrokenSeq);
        return { ok: false, checked: result.checked, firstBrokenSeq, reason, head: headView };
      };
      if (result.broken) return fail(result.broken.reason, result.broken.seq);
      if (file.state === 'invalid' || headFileInvalid) return fail('head_invalid', null);
      const lastSeq = result.last?.seq ?? 0;
      for (const c of checkpoints) if (c.seq > lastSeq) return fail('tail_missing', lastSeq + 1);
      deps.metrics.auditChainValid.set(1);
      void witness();
      return { ok: true, checked: result.checked, firstBrokenSeq: null, reason: null, head: headView };
    },

    /** The signed head for external witnesses (after checking what was committed since the last one). */
    async head(): Promise<SignedAuditHead | null> {
      await witness();
      return head ?? null;
    },

    witness,

    /** Resolves once no witness pass is running (shutdown, tests). */
    async settle(): Promise<void> {
      while (witnessing) await witnessing;
    },
  };
}

export type AuditService = ReturnType<typeof auditServiceFactory>;
