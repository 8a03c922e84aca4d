/**
 * Access and portability export (Art. 15, 20): everything held about one subject as one streamed JSON document.
 * The export is audited under the request id, never the subject.
 */
import type { Principal } from '../types.ts';
import { closeRequests } from './dsr-requests.ts';
import type { GdprDeps } from './gdpr-deps.ts';
import { consentView, requestView } from './gdpr-views.ts';
import { segmentText } from './transcripts-service.ts';

const EXPORT_BATCH = 500;

export function subjectExportFactory(deps: GdprDeps) {
  const db = deps.db.kysely;

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
        consents: consents.map(consentView),
        requests: requests.map(requestView),
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
            text: segmentText(dek, r),
          }),
        );
        yield (first ? '' : ',') + chunk.join(',');
        first = false;
        after = rows[rows.length - 1]!.id;
      }
      yield ']}';
    },
  };
}
