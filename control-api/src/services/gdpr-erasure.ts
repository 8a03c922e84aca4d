/**
 * Erasure by crypto-shredding (Art. 17): the subject's data key goes first, then every row about the subject,
 * and the erasure is recorded in the ledger and audited under the request id, never the subject.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Principal } from '../types.ts';
import { closeRequests } from './dsr-requests.ts';
import type { GdprDeps } from './gdpr-deps.ts';

export interface ErasureCounts {
  transcriptSegments: number;
  calls: number;
  participants: number;
  recordings: number;
  consentRecords: number;
  dataKeys: number;
}

/** Counts the rows an erasure would remove (dry run), inside the caller's transaction. */
async function countsFor(
  trx: Kysely<Database>,
  subjectRef: string,
  hasKey: (subjectRef: string) => Promise<boolean>,
): Promise<ErasureCounts> {
  const callIds = trx.selectFrom('calls').select('id').where('subject_ref', '=', subjectRef);
  // Rows keyed by the subject's HMAC reference, and rows keyed by one of the subject's calls.
  const bySubject = async (table: 'transcript_segments' | 'calls' | 'consent_records') =>
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
    dataKeys: (await hasKey(subjectRef)) ? 1 : 0,
  };
}

export function subjectErasureFactory(deps: GdprDeps) {
  const db = deps.db.kysely;

  return {
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
        // Lock the subject's calls before the key goes: a transcript ingest in flight (FOR SHARE on its call)
        // finishes first and its segments are erased below; one that starts now waits and then finds no call.
        if (!options.dryRun) {
          await trx
            .selectFrom('calls')
            .select('id')
            .where('subject_ref', '=', subjectRef)
            .forUpdate()
            .execute();
        }
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
            erased: await countsFor(
              trx,
              subjectRef,
              async (ref) => (await deps.subjectKeys.existingDataKey(trx, ref)) !== undefined,
            ),
            recordingLocations,
          };
        }
        const participants = await trx
          .selectFrom('call_participants')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('call_id', 'in', callIds)
          .executeTakeFirst();
        const deleted = async (q: Promise<{ numDeletedRows: bigint }>) => Number((await q).numDeletedRows);
        // Key first, in the key store (final even if this transaction rolls back): once it is gone, every
        // ciphertext row, dead row version, WAL record and backup copy of this subject's text is noise.
        const dataKeys = (await deps.subjectKeys.destroy(subjectRef)) ? 1 : 0;
        await trx.deleteFrom('subjects').where('subject_ref', '=', subjectRef).execute();
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
  };
}
