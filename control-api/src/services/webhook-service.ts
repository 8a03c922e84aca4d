/**
 * LiveKit webhooks: verify the token and the body hash over the raw bytes, de-duplicate on the event id
 * (`INSERT … ON CONFLICT DO NOTHING`, which doubles as the outbox row), answer at once, and apply the call
 * state machine afterwards in a background loop that drains the outbox in arrival order.
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { TokenVerifier, WebhookEvent } from 'livekit-server-sdk';
import type { Logger } from '../../../common/src/logger.ts';
import type { Db } from '../db/db.ts';
import type { Database } from '../db/schema.ts';
import { ApiError } from '../lib/problem.ts';
import type { ControlApiMetrics } from '../metrics.ts';
import { applyFacts, extractFacts, type WebhookFacts } from './call-state.ts';
import { isDataError, WEBHOOK_LIMITS, webhookProblem } from './webhook-validation.ts';

export interface WebhookServiceDeps {
  db: Db;
  livekit: { apiKey: string; apiSecret: string };
  metrics: ControlApiMetrics;
  logger: Logger;
  now: () => Date;
  /** Seconds of clock skew tolerated on the token's `exp`. */
  clockToleranceSeconds?: number;
  /** Called after commit for each room whose agent left while the caller stayed (see call-state.ts). */
  onAgentLost?: (roomName: string) => Promise<unknown>;
}

export type ReceiveResult = { status: 'accepted' | 'duplicate'; event: string };

const OUTBOX_LOCK = 72179;
/**
 * Outbox batch per transaction. PGlite is one connection, so a long batch would hold up new deliveries; small
 * batches let the inserts interleave.
 */
const PROCESS_BATCH = { postgres: 200, pglite: 25 } as const;
/** Rows per multi-row INSERT when deliveries are grouped into one statement. */
const INSERT_BATCH = 500;

interface PendingInsert {
  row: {
    id: string;
    event: string;
    room_name: string | null;
    facts: string;
    created_at_s: number;
    received_at: Date;
  };
  resolve(inserted: boolean): void;
  reject(err: unknown): void;
}

export function webhookServiceFactory(deps: WebhookServiceDeps) {
  const verifier = new TokenVerifier(deps.livekit.apiKey, deps.livekit.apiSecret);
  const batchSize = PROCESS_BATCH[deps.db.engine];
  let running: Promise<void> | null = null;
  let queue: PendingInsert[] = [];
  let flushing = false;
  let again = false;
  let stopped = false;
  /** Work started by applied events (agent replacements), awaited by drain(). */
  const followUps = new Set<Promise<unknown>>();

  /**
   * The same checks as the SDK's WebhookReceiver, split in two steps so that the answer depends on the step
   * that failed, not on the shape of the error: anything thrown while checking the token and the body hash is
   * a 401 (jose throws a TypeError, not a JOSEError, for `alg: none` or an asymmetric alg with our secret).
   */
  async function authenticate(rawBody: string, authorization: string | undefined): Promise<void> {
    try {
      if (!authorization) throw new Error('authorization header is empty');
      const claims = await verifier.verify(authorization, deps.clockToleranceSeconds ?? 5);
      const bodyHash = createHash('sha256').update(rawBody, 'utf8').digest('base64');
      if (claims.sha256 !== bodyHash) throw new Error('sha256 checksum of body does not match');
    } catch {
      deps.metrics.webhookEvents.inc({ event: 'unknown', result: 'unauthorized' });
      throw new ApiError(401, 'Unauthorized', 'webhook signature verification failed');
    }
  }

  async function verify(rawBody: string, authorization: string | undefined): Promise<WebhookEvent> {
    await authenticate(rawBody, authorization);
    try {
      return WebhookEvent.fromJson(JSON.parse(rawBody), { ignoreUnknownFields: true });
    } catch {
      // The signature checked out but the body is not a LiveKit event (bad JSON or wrong field types).
      deps.metrics.webhookEvents.inc({ event: 'unknown', result: 'malformed' });
      throw new ApiError(400, 'Bad Request', 'webhook body is not a LiveKit event');
    }
  }

  /**
   * Applies one batch of pending outbox rows in one transaction. Optimistic first: no savepoints, so a batch
   * costs only the state machine's own queries. If any event throws, the batch is rolled back and redone with
   * a savepoint per event, so the bad one is marked failed and the rest still apply.
   */
  async function processBatch(careful = false): Promise<number> {
    try {
      return await deps.db.kysely.transaction().execute(async (trx) => {
        const lock = await sql<{
          locked: boolean;
        }>`select pg_try_advisory_xact_lock(${OUTBOX_LOCK}) as locked`.execute(trx);
        if (!lock.rows[0]?.locked) return 0;
        const rows = await trx
          .selectFrom('webhook_events')
          .select(['seq', 'id', 'event', 'facts'])
          .where('processed_at', 'is', null)
          .orderBy('seq')
          .limit(batchSize)
          .execute();
        const byResult = new Map<string, Array<(typeof rows)[number]['seq']>>();
        const counts: Array<{ event: string; result: string }> = [];
        const lostAgents: string[] = [];
        const at = deps.now();
        for (const row of rows) {
          const facts = row.facts as WebhookFacts;
          const result = careful
            ? await applyGuarded(trx, facts, row.id, at)
            : await applyFacts(trx, facts, row.id, at);
          counts.push({ event: row.event, result });
          if (result === 'agent_lost' && facts.roomName) lostAgents.push(facts.roomName);
          byResult.set(result, [...(byResult.get(result) ?? []), row.seq]);
        }
        for (const [result, seqs] of byResult) {
          await trx
            .updateTable('webhook_events')
            .set({ processed_at: at, result })
            .where('seq', 'in', seqs)
            .execute();
        }
        // Count only once the batch commits.
        setImmediate(() => {
          for (const c of counts) deps.metrics.webhookEvents.inc(c);
          for (const room of lostAgents) {
            const followUp = deps.onAgentLost?.(room);
            if (followUp) {
              followUps.add(followUp);
              void followUp.finally(() => followUps.delete(followUp));
            }
          }
        });
        return rows.length;
      });
    } catch (err) {
      if (careful) throw err;
      return processBatch(true);
    }
  }

  async function applyGuarded(trx: Kysely<Database>, facts: WebhookFacts, id: string, at: Date) {
    try {
      await sql`savepoint apply_event`.execute(trx);
      const result = await applyFacts(trx, facts, id, at);
      await sql`release savepoint apply_event`.execute(trx);
      return result;
    } catch (err) {
      await sql`rollback to savepoint apply_event`.execute(trx);
      deps.logger.error({ err, eventId: id }, 'webhook event could not be applied');
      return 'failed';
    }
  }

  async function loop(): Promise<void> {
    do {
      again = false;
      try {
        while (!stopped && (await processBatch()) === batchSize) {}
      } catch (err) {
        deps.logger.error({ err }, 'webhook outbox processing failed');
        return;
      }
    } while (again && !stopped);
  }

  /**
   * Group commit: deliveries that arrive while an INSERT is in flight go into the next multi-row
   * `INSERT … ON CONFLICT (id) DO NOTHING RETURNING id`, so one round trip and one commit serve many webhooks.
   * Resolves true for a new event, false for a duplicate.
   */
  function record(row: PendingInsert['row']): Promise<boolean> {
    return new Promise((resolve, reject) => {
      queue.push({ row, resolve, reject });
      if (!flushing) {
        flushing = true;
        setImmediate(() => void flush());
      }
    });
  }

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, INSERT_BATCH);
      queue = queue.slice(INSERT_BATCH);
      // The same id twice in one batch: only the first can be new.
      const unique = new Map<string, PendingInsert['row']>();
      for (const p of batch) if (!unique.has(p.row.id)) unique.set(p.row.id, p.row);
      try {
        const fresh = new Set(await insertRows([...unique.values()]));
        for (const p of batch) p.resolve(fresh.delete(p.row.id));
      } catch {
        // One row may have failed the whole statement: insert one by one, so only that delivery fails.
        await insertEach(batch);
      }
    }
    flushing = false;
  }

  async function insertRows(rows: Array<PendingInsert['row']>): Promise<string[]> {
    const inserted = await deps.db.kysely
      .insertInto('webhook_events')
      .values(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    return inserted.map((r) => r.id);
  }

  async function insertEach(batch: PendingInsert[]): Promise<void> {
    const done = new Set<string>();
    for (const p of batch) {
      if (done.has(p.row.id)) {
        p.resolve(false);
        continue;
      }
      try {
        const fresh = (await insertRows([p.row])).length > 0;
        done.add(p.row.id);
        p.resolve(fresh);
      } catch (err) {
        if (!isDataError(err)) {
          p.reject(err);
          continue;
        }
        // The event's own values cannot be stored: final, so answer 400 (LiveKit does not retry it).
        deps.logger.warn(
          { eventId: p.row.id.slice(0, WEBHOOK_LIMITS.id) },
          'webhook event could not be stored',
        );
        deps.metrics.webhookEvents.inc({ event: 'unknown', result: 'unstorable' });
        p.reject(new ApiError(400, 'Bad Request', 'webhook event holds values that cannot be stored'));
      }
    }
  }

  function kick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = loop().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    /** Verifies and records one delivery. Throws ApiError 401/400; store errors propagate (→ 5xx, retried). */
    async receive(rawBody: string, authorization: string | undefined): Promise<ReceiveResult> {
      const event = await verify(rawBody, authorization);
      if (!event.id || !event.event) {
        deps.metrics.webhookEvents.inc({ event: 'unknown', result: 'malformed' });
        throw new ApiError(400, 'Bad Request', 'webhook event has no id or event name');
      }
      const facts = extractFacts(event);
      // Checked before the event joins a batch, so a poison event cannot fail the deliveries it shares it with.
      const problem = webhookProblem(event.id, event.event, facts);
      if (problem) {
        deps.metrics.webhookEvents.inc({ event: 'unknown', result: 'malformed' });
        throw new ApiError(400, 'Bad Request', `webhook ${problem.field}: ${problem.message}`, {
          field: problem.field,
        });
      }
      const inserted = await record({
        id: event.id,
        event: event.event,
        room_name: facts.roomName,
        facts: JSON.stringify(facts),
        // Seconds since the epoch; anything outside a sane range (int64 extremes) is stored as 0.
        created_at_s: event.createdAt > 0n && event.createdAt < 1n << 40n ? Number(event.createdAt) : 0,
        received_at: deps.now(),
      });
      if (!inserted) {
        deps.metrics.webhookEvents.inc({ event: event.event, result: 'duplicate' });
        return { status: 'duplicate', event: event.event };
      }
      deps.metrics.webhookEvents.inc({ event: event.event, result: 'accepted' });
      void kick();
      return { status: 'accepted', event: event.event };
    },

    /** Processes pending outbox rows (also those left by a crash). */
    process: kick,

    /** Resolves when nothing is pending (tests and shutdown). */
    async drain(): Promise<void> {
      for (let i = 0; i < 1000; i += 1) {
        await kick();
        const pending = await deps.db.kysely
          .selectFrom('webhook_events')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('processed_at', 'is', null)
          .executeTakeFirstOrThrow();
        if (Number(pending.n) === 0) {
          // Follow-ups are scheduled right after a batch commits; let that tick pass, then wait for them.
          await new Promise((r) => setImmediate(r));
          await Promise.allSettled([...followUps]);
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },

    stop(): Promise<void> {
      stopped = true;
      return running ?? Promise.resolve();
    },
  };
}

export type WebhookService = ReturnType<typeof webhookServiceFactory>;
