/**
 * LiveKit webhooks: verify the signature over the raw bytes with the SDK's receiver, de-duplicate on the event
 * id (`INSERT … ON CONFLICT DO NOTHING`, which doubles as the outbox row), answer at once, and apply the call
 * state machine afterwards in a background loop that drains the outbox in arrival order.
 */
import { type Kysely, sql } from 'kysely';
import { WebhookReceiver } from 'livekit-server-sdk';
import type { Logger } from '../../../common/src/logger.ts';
import type { Db } from '../db/db.ts';
import type { Database } from '../db/schema.ts';
import { ApiError } from '../lib/problem.ts';
import type { ControlApiMetrics } from '../metrics.ts';
import { applyFacts, extractFacts, type WebhookFacts } from './call-state.ts';

export interface WebhookServiceDeps {
  db: Db;
  livekit: { apiKey: string; apiSecret: string };
  metrics: ControlApiMetrics;
  logger: Logger;
  now: () => Date;
  /** Seconds of clock skew tolerated on the token's `exp`. */
  clockToleranceSeconds?: number;
}

/**
 * jose errors carry `ERR_J…` codes (classified by code, not instanceof, in case two jose copies are installed);
 * the SDK throws plain Errors for a missing header and a body hash mismatch.
 */
function isAuthFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_J')) return true;
  const message = err instanceof Error ? err.message : '';
  return message === 'authorization header is empty' || message.startsWith('sha256 checksum');
}

export type ReceiveResult = { status: 'accepted' | 'duplicate'; event: string };

const OUTBOX_LOCK = 72179;
const BATCH = 200;

export function webhookServiceFactory(deps: WebhookServiceDeps) {
  const receiver = new WebhookReceiver(deps.livekit.apiKey, deps.livekit.apiSecret);
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function verify(rawBody: string, authorization: string | undefined) {
    try {
      return await receiver.receive(rawBody, authorization, false, deps.clockToleranceSeconds ?? 5);
    } catch (err) {
      if (isAuthFailure(err)) {
        deps.metrics.webhookEvents.inc({ event: 'unknown', result: 'unauthorized' });
        throw new ApiError(401, 'Unauthorized', 'webhook signature verification failed');
      }
      // The signature checked out but the body is not a LiveKit event (bad JSON or wrong field types).
      deps.metrics.webhookEvents.inc({ event: 'unknown', result: 'malformed' });
      throw new ApiError(400, 'Bad Request', 'webhook body is not a LiveKit event');
    }
  }

  async function processBatch(): Promise<number> {
    return deps.db.kysely.transaction().execute(async (trx) => {
      const lock = await sql<{
        locked: boolean;
      }>`select pg_try_advisory_xact_lock(${OUTBOX_LOCK}) as locked`.execute(trx);
      if (!lock.rows[0]?.locked) return 0;
      const rows = await trx
        .selectFrom('webhook_events')
        .select(['seq', 'id', 'event', 'facts'])
        .where('processed_at', 'is', null)
        .orderBy('seq')
        .limit(BATCH)
        .execute();
      for (const row of rows) {
        const at = deps.now();
        const result = await applyOne(trx, row.facts as WebhookFacts, row.id, at);
        deps.metrics.webhookEvents.inc({ event: row.event, result });
        await trx
          .updateTable('webhook_events')
          .set({ processed_at: at, result })
          .where('seq', '=', row.seq)
          .execute();
      }
      return rows.length;
    });
  }

  async function applyOne(trx: Kysely<Database>, facts: WebhookFacts, id: string, at: Date) {
    // A savepoint keeps one bad event from blocking the outbox behind it.
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
        while (!stopped && (await processBatch()) === BATCH) {}
      } catch (err) {
        deps.logger.error({ err }, 'webhook outbox processing failed');
        return;
      }
    } while (again && !stopped);
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
        deps.metrics.webhookEvents.inc({ event: event.event || 'unknown', result: 'malformed' });
        throw new ApiError(400, 'Bad Request', 'webhook event has no id or event name');
      }
      const facts = extractFacts(event);
      const inserted = await deps.db.kysely
        .insertInto('webhook_events')
        .values({
          id: event.id,
          event: event.event,
          room_name: facts.roomName,
          facts: JSON.stringify(facts),
          // Seconds since the epoch; anything outside a sane range (int64 extremes) is stored as 0.
          created_at_s: event.createdAt > 0n && event.createdAt < 1n << 40n ? Number(event.createdAt) : 0,
          received_at: deps.now(),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('seq')
        .executeTakeFirst();
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
        if (Number(pending.n) === 0) return;
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
