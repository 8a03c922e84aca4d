/**
 * The data subject request ledger shared by the GDPR services: request types, the one-month deadline of
 * Art. 12(3), and closing a subject's open requests when they are answered.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export type DsrType = 'access' | 'portability' | 'erasure' | 'restriction' | 'rectification' | 'objection';

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

/** Completes open requests of these types for the subject, or records an already-completed one. */
export async function closeRequests(
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
