/**
 * Storage limitation (Art. 5(1)(e)): deletes call data older than `RETENTION_DAYS` in batches, periodically
 * and on demand. Consent records survive their call (detached) because they prove the legal basis; erasure
 * removes them. Data keys of subjects with nothing left are destroyed too.
 */
import { sql } from 'kysely';
import type { Db } from '../db/db.ts';
import type { ControlApiMetrics } from '../metrics.ts';
import type { Principal } from '../types.ts';
import type { AuditService } from './audit-service.ts';
import type { SubjectKeys } from './subject-keys.ts';

export interface RetentionResult {
  cutoff: string;
  deleted: {
    calls: number;
    transcriptSegments: number;
    webhookEvents: number;
    idempotencyKeys: number;
    dataKeys: number;
  };
}

const BATCH = 1000;

export function retentionServiceFactory(deps: {
  db: Db;
  audit: AuditService;
  subjectKeys: SubjectKeys;
  metrics: ControlApiMetrics;
  retentionDays: number;
  now: () => Date;
}) {
  const db = deps.db.kysely;

  return {
    async run(actor: Principal | { id: string }): Promise<RetentionResult> {
      const now = deps.now();
      const cutoff = new Date(now.getTime() - deps.retentionDays * 86_400_000);
      const deleted = { calls: 0, transcriptSegments: 0, webhookEvents: 0, idempotencyKeys: 0, dataKeys: 0 };
      for (;;) {
        const batch = await db.transaction().execute(async (trx) => {
          const ids = (
            await trx.selectFrom('calls').select('id').where('created_at', '<', cutoff).limit(BATCH).execute()
          ).map((r) => r.id);
          if (ids.length === 0) return 0;
          const segs = await trx
            .deleteFrom('transcript_segments')
            .where('call_id', 'in', ids)
            .executeTakeFirst();
          deleted.transcriptSegments += Number(segs.numDeletedRows);
          await trx.deleteFrom('calls').where('id', 'in', ids).execute();
          deleted.calls += ids.length;
          return ids.length;
        });
        if (batch < BATCH) break;
      }
      const events = await db
        .deleteFrom('webhook_events')
        .where('received_at', '<', cutoff)
        .executeTakeFirst();
      deleted.webhookEvents = Number(events.numDeletedRows);
      // Idempotency keys only need to outlive client retries.
      const keys = await db
        .deleteFrom('idempotency_keys')
        .where('created_at', '<', new Date(now.getTime() - 86_400_000))
        .executeTakeFirst();
      deleted.idempotencyKeys = Number(keys.numDeletedRows);
      const orphanKeys = await db
        .deleteFrom('subjects')
        .where('created_at', '<', cutoff)
        .where('restricted_at', 'is', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('transcript_segments')
                .select(sql`1`.as('x'))
                .whereRef('transcript_segments.subject_ref', '=', 'subjects.subject_ref'),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('calls')
                .select(sql`1`.as('x'))
                .whereRef('calls.subject_ref', '=', 'subjects.subject_ref'),
            ),
          ),
        )
        .returning('subject_ref')
        .execute();
      // The rows are gone; the keys themselves are destroyed in the key store.
      for (const r of orphanKeys) if (await deps.subjectKeys.destroy(r.subject_ref)) deleted.dataKeys += 1;
      for (const [table, n] of Object.entries(deleted)) deps.metrics.retentionDeleted.inc({ table }, n);
      await deps.audit.append({
        actor: actor.id,
        action: 'retention.run',
        details: { ...deleted, retentionDays: deps.retentionDays },
      });
      return { cutoff: cutoff.toISOString(), deleted };
    },
  };
}

export type RetentionService = ReturnType<typeof retentionServiceFactory>;
