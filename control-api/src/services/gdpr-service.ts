/**
 * Data subject rights: access/portability export (Art. 15, 20), erasure by crypto-shredding (Art. 17),
 * restriction (Art. 18), consent records (Art. 7) and request deadlines (Art. 12(3)). Every action is audited
 * without personal data: the audit entry names the request id, never the subject.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Db } from '../db/db.ts';
import type { Database } from '../db/schema.ts';
import { type KeyringService, open } from '../lib/crypto.ts';
import { ApiError } from '../lib/problem.ts';
import type { ControlApiMetrics } from '../metrics.ts';
import type { Principal } from '../types.ts';
import type { AuditService } from './audit-service.ts';
import type { SubjectKeys } from './subject-keys.ts';
import { segmentAad } from './transcripts-service.ts';

export type DsrType = 'access' | 'portability' | 'erasure' | 'restriction' | 'rectification' | 'objection';

export interface ErasureCounts {
  transcriptSegments: number;
  calls: number;
  participants: number;
  recordings: number;
  consentRecords: number;
  dataKeys: number;
}

const EXPORT_BATCH = 500;

/** One calendar month later, clamped to the month's last day (Art. 12(3)). */
export function oneMonthAfter(d: Date): Date {
  const out = new Date(d.getTime());
  const day = out.getUTCDate();
  out.setUTCDate(1);
  out.setUTCMonth(out.getUTCMonth() + 1);
  const last = new Date(Date.UTC(out.getUTCFullYear(), out.getUTCMonth() + 1, 0)).getUTCDate();
  out.setUTCDate(Math.min(day, last));
  return out;
}

export function gdprServiceFactory(deps: {
  db: Db;
  keyring: KeyringService;
  subjectKeys: SubjectKeys;
  audit: AuditService;
  metrics: ControlApiMetrics;
  now: () => Date;
}) {
  const db = deps.db.kysely;

  /** Completes open requests of these types for the subject, or records an already-completed one. */
  async function closeRequests(
    trx: Kysely<Database>,
    subjectRef: string,
    types: DsrType[],
    at: Date,
  ): Promise<string> {
    const open = await trx
      .updateTable('dsr_requests')
      .set({ completed_at: at, status: 'completed' })
      .where('subject_ref', '=', subjectRef)
      .where('type', 'in', types)
      .where('completed_at', 'is', null)
      .returning('id')
      .execute();
    if (open[0]) return open[0].id;
    const id = randomUUID();
    await trx
      .insertInto('dsr_requests')
      .values({
        id,
        type: types[0] ?? 'access',
        subject_ref: subjectRef,
        received_at: at,
        due_at: oneMonthAfter(at),
        completed_at: at,
        status: 'completed',
      })
      .execute();
    return id;
  }

  async function countsFor(trx: Kysely<Database>, subjectRef: string): Promise<ErasureCounts> {
    const callIds = trx.selectFrom('calls').select('id').where('subject_ref', '=', subjectRef);
    // Rows keyed by the subject's HMAC reference, and rows keyed by one of the subject's calls.
    const bySubject = async (table: 'transcript_segments' | 'calls' | 'consent_records' | 'subjects') =>
      Number(
        (
          await trx
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('subject_ref', '=', subjectRef)
            .executeTakeFirst()
        )?.n ?? 0,
      );
    const byCall = async (table: 'call_participants' | 'call_egress') =>
      Number(
        (
          await trx
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('call_id', 'in', callIds)
            .executeTakeFirst()
        )?.n ?? 0,
      );
    return {
      transcriptSegments: await bySubject('transcript_segments'),
      calls: await bySubject('calls'),
      participants: await byCall('call_participants'),
      recordings: await byCall('call_egress'),
      consentRecords: await bySubject('consent_records'),
      dataKeys: await bySubject('subjects'),
    };
  }

  return {
    /**
     * Streams everything held about the subject as one JSON document. Segments are read in keyset-paginated
     * batches and decrypted batch by batch, so memory stays flat however long the history is.
     */
    async *exportSubject(principal: Principal, subjectId: string): AsyncGenerator<string> {
      const subjectRef = deps.keyring.subjectRef(subjectId);
      const at = deps.now();
      const requestId = await db.transaction().execute(async (trx) => {
        const id = await closeRequests(trx, subjectRef, ['access', 'portability'], at);
        await deps.audit.append({ actor: principal.id, action: 'gdpr.export', target: `dsr:${id}` }, trx);
        return id;
      });
      deps.metrics.gdprRequests.inc({ kind: 'export' });

      const subject = await db
        .selectFrom('subjects')
        .select(['created_at', 'restricted_at', 'restriction_reason'])
        .where('subject_ref', '=', subjectRef)
        .executeTakeFirst();
      const consents = await db
        .selectFrom('consent_records')
        .selectAll()
        .where('subject_ref', '=', subjectRef)
        .orderBy('given_at')
        .execute();
      const requests = await db
        .selectFrom('dsr_requests')
        .selectAll()
        .where('subject_ref', '=', subjectRef)
        .orderBy('received_at')
        .execute();
      const head = {
        format: 'riva-call-agent/subject-export',
        version: 1,
        exportedAt: at.toISOString(),
        requestId,
        subjectId,
        processing: {
          restricted: Boolean(subject?.restricted_at),
          restrictedAt: subject?.restricted_at ? new Date(subject.restricted_at).toISOString() : null,
          restrictionReason: subject?.restriction_reason ?? null,
        },
        consents: consents.map((c) => ({
          purpose: c.purpose,
          granted: c.granted,
          noticeVersion: c.notice_version,
          callId: c.call_id,
          givenAt: new Date(c.given_at).toISOString(),
          withdrawnAt: c.withdrawn_at ? new Date(c.withdrawn_at).toISOString() : null,
        })),
        requests: requests.map((r) => ({
          id: r.id,
          type: r.type,
          status: r.status,
          receivedAt: new Date(r.received_at).toISOString(),
          dueAt: new Date(r.due_at).toISOString(),
          completedAt: r.completed_at ? new Date(r.completed_at).toISOString() : null,
        })),
      };
      const headJson = JSON.stringify(head);
      yield `${headJson.slice(0, -1)},"calls":[`;

      let lastCreated: Date | null = null;
      let lastId = '';
      let first = true;
      for (;;) {
        let q = db
          .selectFrom('calls')
          .selectAll()
          .where('subject_ref', '=', subjectRef)
          .orderBy('created_at')
          .orderBy('id')
          .limit(EXPORT_BATCH);
        if (lastCreated) {
          const lc = lastCreated;
          q = q.where((eb) =>
            eb.or([eb('created_at', '>', lc), eb.and([eb('created_at', '=', lc), eb('id', '>', lastId)])]),
          );
        }
        const calls = await q.execute();
        if (calls.length === 0) break;
        const participants = await db
          .selectFrom('call_participants')
          .selectAll()
          .where(
            'call_id',
            'in',
            calls.map((c) => c.id),
          )
          .execute();
        const chunk = calls.map((c) =>
          JSON.stringify({
            id: c.id,
            roomName: c.room_name,
            region: c.region,
            legalBasis: c.legal_basis,
            state: c.state,
            createdAt: new Date(c.created_at).toISOString(),
            startedAt: c.started_at ? new Date(c.started_at).toISOString() : null,
            endedAt: c.ended_at ? new Date(c.ended_at).toISOString() : null,
            endReason: c.end_reason,
            participants: participants
              .filter((p) => p.call_id === c.id)
              .map((p) => ({ identity: p.identity, kind: p.kind, state: p.state })),
          }),
        );
        yield (first ? '' : ',') + chunk.join(',');
        first = false;
        const last = calls[calls.length - 1]!;
        lastCreated = new Date(last.created_at);
        lastId = last.id;
      }
      yield '],"transcriptSegments":[';

      const dek = await deps.subjectKeys.existingDataKey(db, subjectRef);
      let after = '';
      first = true;
      while (dek) {
        const rows = await db
          .selectFrom('transcript_segments')
          .selectAll()
          .where('subject_ref', '=', subjectRef)
          .where('id', '>', after)
          .orderBy('id')
          .limit(EXPORT_BATCH)
          .execute();
        if (rows.length === 0) break;
        const chunk = rows.map((r) =>
          JSON.stringify({
            id: r.id,
            callId: r.call_id,
            speaker: r.speaker,
            startMs: r.start_ms,
            endMs: r.end_ms,
            text: open(
              dek,
              { nonce: Buffer.from(r.nonce), ciphertext: Buffer.from(r.ciphertext) },
              segmentAad(r.call_id, r.id, subjectRef),
            ).toString('utf8'),
          }),
        );
        yield (first ? '' : ',') + chunk.join(',');
        first = false;
        after = rows[rows.length - 1]!.id;
      }
      yield ']}';
    },

    /**
     * Erases the subject: destroys the data key (so any copy of the ciphertext is unreadable), deletes the
     * subject's calls, segments, participants, recording records and consent records, and records the erasure
     * in the ledger. Idempotent: erasing twice reports zeros the second time.
     */
    async erase(
      principal: Principal,
      subjectId: string,
      options: { dryRun: boolean; reason: string },
    ): Promise<{
      requestId: string | null;
      dryRun: boolean;
      erased: ErasureCounts;
      recordingLocations: string[];
    }> {
      const subjectRef = deps.keyring.subjectRef(subjectId);
      const at = deps.now();
      const result = await db.transaction().execute(async (trx) => {
        const callIds = trx.selectFrom('calls').select('id').where('subject_ref', '=', subjectRef);
        const recordings = await trx
          .selectFrom('call_egress')
          .select('locations')
          .where('call_id', 'in', callIds)
          .execute();
        const recordingLocations = recordings.flatMap((r) => r.locations);
        if (options.dryRun) {
          return {
            requestId: null,
            dryRun: true,
            erased: await countsFor(trx, subjectRef),
            recordingLocations,
          };
        }
        const participants = await trx
          .selectFrom('call_participants')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('call_id', 'in', callIds)
          .executeTakeFirst();
        const deleted = async (q: Promise<{ numDeletedRows: bigint }>) => Number((await q).numDeletedRows);
        // Key first: once it is gone, every ciphertext row (and its copies in WAL or backups) is noise.
        const dataKeys = await deleted(
          trx.deleteFrom('subjects').where('subject_ref', '=', subjectRef).executeTakeFirst(),
        );
        const transcriptSegments = await deleted(
          trx.deleteFrom('transcript_segments').where('subject_ref', '=', subjectRef).executeTakeFirst(),
        );
        const consentRecords = await deleted(
          trx.deleteFrom('consent_records').where('subject_ref', '=', subjectRef).executeTakeFirst(),
        );
        // Participants, transitions and egress rows go with their calls (ON DELETE CASCADE).
        const calls = await deleted(
          trx.deleteFrom('calls').where('subject_ref', '=', subjectRef).executeTakeFirst(),
        );
        const counts: ErasureCounts = {
          transcriptSegments,
          calls,
          participants: Number(participants?.n ?? 0),
          recordings: recordings.length,
          consentRecords,
          dataKeys,
        };
        const requestId = await closeRequests(trx, subjectRef, ['erasure'], at);
        // Requests stay as proof of compliance, detached from the subject.
        await trx
          .updateTable('dsr_requests')
          .set({ subject_ref: null })
          .where('subject_ref', '=', subjectRef)
          .where('completed_at', 'is not', null)
          .execute();
        await trx
          .insertInto('erasure_ledger')
          .values({ id: requestId, subject_ref: subjectRef, erased_at: at, counts: JSON.stringify(counts) })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        await deps.audit.append(
          {
            actor: principal.id,
            action: 'gdpr.erase',
            target: `dsr:${requestId}`,
            details: { ...counts, reason: options.reason.slice(0, 200) },
          },
          trx,
        );
        return { requestId, dryRun: false, erased: counts, recordingLocations };
      });
      deps.metrics.gdprRequests.inc({ kind: options.dryRun ? 'erase_dry_run' : 'erase' });
      return result;
    },

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
      return rows.map((c) => ({
        id: c.id,
        purpose: c.purpose,
        granted: c.granted,
        noticeVersion: c.notice_version,
        callId: c.call_id,
        givenAt: new Date(c.given_at).toISOString(),
        withdrawnAt: c.withdrawn_at ? new Date(c.withdrawn_at).toISOString() : null,
      }));
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
      const out = rows.map((r) => ({
        id: r.id,
        type: r.type,
        status: r.status,
        receivedAt: new Date(r.received_at).toISOString(),
        dueAt: new Date(r.due_at).toISOString(),
        completedAt: r.completed_at ? new Date(r.completed_at).toISOString() : null,
        overdue: r.completed_at === null && new Date(r.due_at) < now,
      }));
      return out;
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
