/**
 * Data subject rights: access/portability export (Art. 15, 20, in gdpr-export.ts), erasure by crypto-shredding
 * (Art. 17, in gdpr-erasure.ts), restriction (Art. 18), consent records (Art. 7) and request deadlines
 * (Art. 12(3)). Every action is audited without personal data: the audit entry names the request id, never the
 * subject.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../lib/problem.ts';
import type { Principal } from '../types.ts';
import { closeRequests, type DsrType, oneMonthAfter } from './dsr-requests.ts';
import type { GdprDeps } from './gdpr-deps.ts';
import { subjectErasureFactory } from './gdpr-erasure.ts';
import { subjectExportFactory } from './gdpr-export.ts';
import { consentView, requestView } from './gdpr-views.ts';

export function gdprServiceFactory(deps: GdprDeps) {
  const db = deps.db.kysely;

  return {
    ...subjectExportFactory(deps),
    ...subjectErasureFactory(deps),

    async setRestriction(principal: Principal, subjectId: string, restricted: boolean, reason: string) {
      const subjectRef = deps.keyring.subjectRef(subjectId);
      const at = deps.now();
      await db.transaction().execute(async (trx) => {
        await deps.subjectKeys.dataKey(trx, subjectRef);
        await trx
          .updateTable('subjects')
          .set(
            restricted
              ? { restricted_at: at, restriction_reason: reason.slice(0, 200) }
              : { restricted_at: null, restriction_reason: null },
          )
          .where('subject_ref', '=', subjectRef)
          .execute();
        const requestId = restricted ? await closeRequests(trx, subjectRef, ['restriction'], at) : null;
        await deps.audit.append(
          {
            actor: principal.id,
            action: restricted ? 'gdpr.restrict' : 'gdpr.unrestrict',
            target: requestId ? `dsr:${requestId}` : null,
          },
          trx,
        );
      });
      deps.metrics.gdprRequests.inc({ kind: restricted ? 'restrict' : 'unrestrict' });
      return { restricted, at: at.toISOString() };
    },

    async recordConsent(
      principal: Principal,
      subjectId: string,
      input: { purpose: string; granted: boolean; noticeVersion: string; callId?: string | undefined },
    ) {
      const subjectRef = deps.keyring.subjectRef(subjectId);
      const at = deps.now();
      return db.transaction().execute(async (trx) => {
        if (input.callId) {
          const call = await trx
            .selectFrom('calls')
            .select('subject_ref')
            .where('id', '=', input.callId)
            .executeTakeFirst();
          if (!call || call.subject_ref !== subjectRef) throw new ApiError(404, 'Not Found', 'no such call');
        }
        // A new choice withdraws the previous grant for the same purpose.
        await trx
          .updateTable('consent_records')
          .set({ withdrawn_at: at })
          .where('subject_ref', '=', subjectRef)
          .where('purpose', '=', input.purpose)
          .where('granted', '=', true)
          .where('withdrawn_at', 'is', null)
          .execute();
        const id = randomUUID();
        await trx
          .insertInto('consent_records')
          .values({
            id,
            subject_ref: subjectRef,
            call_id: input.callId ?? null,
            purpose: input.purpose,
            granted: input.granted,
            notice_version: input.noticeVersion,
            given_at: at,
          })
          .execute();
        await deps.audit.append(
          {
            actor: principal.id,
            action: input.granted ? 'consent.grant' : 'consent.withdraw',
            target: `consent:${id}`,
            details: { purpose: input.purpose },
          },
          trx,
        );
        deps.metrics.gdprRequests.inc({ kind: 'consent' });
        return { id, purpose: input.purpose, granted: input.granted, givenAt: at.toISOString() };
      });
    },

    async listConsents(subjectId: string) {
      const rows = await db
        .selectFrom('consent_records')
        .selectAll()
        .where('subject_ref', '=', deps.keyring.subjectRef(subjectId))
        .orderBy('given_at')
        .execute();
      return rows.map((c) => ({ id: c.id, ...consentView(c) }));
    },

    /** Logs a request received by any channel so its one-month deadline is tracked. */
    async openRequest(principal: Principal, type: DsrType, subjectId: string, receivedAt?: Date) {
      const received = receivedAt ?? deps.now();
      const id = randomUUID();
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('dsr_requests')
          .values({
            id,
            type,
            subject_ref: deps.keyring.subjectRef(subjectId),
            received_at: received,
            due_at: oneMonthAfter(received),
            status: 'open',
          })
          .execute();
        await deps.audit.append(
          { actor: principal.id, action: 'dsr.open', target: `dsr:${id}`, details: { type } },
          trx,
        );
      });
      return { id, type, receivedAt: received.toISOString(), dueAt: oneMonthAfter(received).toISOString() };
    },

    async listRequests(options: { openOnly: boolean }) {
      let q = db.selectFrom('dsr_requests').selectAll().orderBy('due_at').limit(500);
      if (options.openOnly) q = q.where('completed_at', 'is', null);
      const rows = await q.execute();
      const now = deps.now();
      return rows.map((r) => ({
        ...requestView(r),
        overdue: r.completed_at === null && new Date(r.due_at) < now,
      }));
    },

    async countOverdue(): Promise<number> {
      const row = await db
        .selectFrom('dsr_requests')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('completed_at', 'is', null)
        .where('due_at', '<', deps.now())
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type GdprService = ReturnType<typeof gdprServiceFactory>;
