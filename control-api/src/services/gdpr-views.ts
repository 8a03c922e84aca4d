/** The JSON shapes of consent records and data subject requests, shared by the subject export and the lists. */
import type { Selectable } from 'kysely';
import type { ConsentRecordsTable, DsrRequestsTable } from '../db/schema.ts';

const isoOrNull = (at: Date | null) => (at ? new Date(at).toISOString() : null);

/** A consent record without its id (the export lists them under the subject; the consent list adds the id). */
export function consentView(c: Selectable<ConsentRecordsTable>) {
  return {
    purpose: c.purpose,
    granted: c.granted,
    noticeVersion: c.notice_version,
    callId: c.call_id,
    givenAt: new Date(c.given_at).toISOString(),
    withdrawnAt: isoOrNull(c.withdrawn_at),
  };
}

export function requestView(r: Selectable<DsrRequestsTable>) {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    receivedAt: new Date(r.received_at).toISOString(),
    dueAt: new Date(r.due_at).toISOString(),
    completedAt: isoOrNull(r.completed_at),
  };
}
