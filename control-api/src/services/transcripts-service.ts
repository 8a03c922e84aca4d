/**
 * Transcript segments from the agent: idempotent by segment id, text sealed with AES-256-GCM under the
 * subject's data key (AAD binds the ciphertext to its call, segment and subject). Only ids, speaker role and
 * timings are stored in the clear.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Db } from '../db/db.ts';
import type { Database, TranscriptSegmentsTable } from '../db/schema.ts';
import { type KeyringService, open, seal } from '../lib/crypto.ts';
import { ApiError } from '../lib/problem.ts';
import type { SubjectKeys } from './subject-keys.ts';

export interface SegmentInput {
  id: string;
  subjectId: string;
  speaker: 'caller' | 'agent';
  text: string;
  startMs: number;
  endMs: number;
}

export interface SegmentOutput {
  id: string;
  speaker: string;
  text: string;
  startMs: number;
  endMs: number;
}

export const segmentAad = (callId: string, segmentId: string, subjectRef: string) =>
  `${callId}:${segmentId}:${subjectRef}`;

/** The plaintext of a stored segment row, under the subject's data key. */
export function segmentText(
  dek: Buffer,
  r: Pick<Selectable<TranscriptSegmentsTable>, 'id' | 'call_id' | 'subject_ref' | 'nonce' | 'ciphertext'>,
): string {
  return open(
    dek,
    { nonce: Buffer.from(r.nonce), ciphertext: Buffer.from(r.ciphertext) },
    segmentAad(r.call_id, r.id, r.subject_ref),
  ).toString('utf8');
}

export function transcriptsServiceFactory(deps: {
  db: Db;
  keyring: KeyringService;
  subjectKeys: SubjectKeys;
  now: () => Date;
}) {
  async function hasTranscriptionConsent(trx: Kysely<Database>, subjectRef: string): Promise<boolean> {
    const latest = await trx
      .selectFrom('consent_records')
      .select(['granted', 'withdrawn_at'])
      .where('subject_ref', '=', subjectRef)
      .where('purpose', '=', 'transcription')
      .orderBy('given_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return latest?.granted === true && latest.withdrawn_at === null;
  }

  /**
   * A segment id that was not inserted is a repeat, which is fine if it is this call's own segment. If another
   * call holds it, the segment would be lost: refuse the batch with 409 (rolled back) instead.
   */
  async function refuseForeignIds(
    trx: Kysely<Database>,
    callId: string,
    segments: SegmentInput[],
    inserted: Array<{ id: string }>,
  ): Promise<void> {
    const fresh = new Set(inserted.map((r) => r.id));
    const repeated = [...new Set(segments.map((s) => s.id).filter((id) => !fresh.has(id)))];
    const foreign = await trx
      .selectFrom('transcript_segments')
      .select('id')
      .where('id', 'in', repeated)
      .where('call_id', '<>', callId)
      .limit(1)
      .executeTakeFirst();
    if (!foreign) return;
    const index = segments.findIndex((s) => s.id === foreign.id);
    throw new ApiError(409, 'Conflict', 'segment id is already used by another call', {
      field: `segments.${index}.id`,
    });
  }

  return {
    async ingest(
      callId: string,
      segments: SegmentInput[],
    ): Promise<{ accepted: number; duplicates: number }> {
      return deps.db.kysely.transaction().execute(async (trx) => {
        // FOR SHARE: an erasure of this subject (which locks its calls FOR UPDATE first) either finished before,
        // and the call is gone (404), or waits until these segments are stored and then erases them too.
        const call = await trx
          .selectFrom('calls')
          .select(['id', 'subject_ref'])
          .where('id', '=', callId)
          .forShare()
          .executeTakeFirst();
        if (!call) throw new ApiError(404, 'Not Found', 'no such call');
        segments.forEach((s, i) => {
          if (deps.keyring.subjectRef(s.subjectId) !== call.subject_ref) {
            throw new ApiError(422, 'Unprocessable Content', 'segment subject does not belong to this call', {
              field: `segments.${i}.subjectId`,
            });
          }
        });
        if (await deps.subjectKeys.restriction(trx, call.subject_ref)) {
          throw new ApiError(423, 'Locked', 'processing of this subject is restricted (Art. 18)');
        }
        if (!(await hasTranscriptionConsent(trx, call.subject_ref))) {
          // 422, not 409: the agent treats 409 as transient and would retry a refusal that cannot change by itself.
          throw new ApiError(422, 'Unprocessable Content', 'the caller has not consented to transcription', {
            reason: 'no_consent',
          });
        }
        const dek = await deps.subjectKeys.dataKey(trx, call.subject_ref);
        const at = deps.now();
        const rows = segments.map((s) => {
          const sealed = seal(dek, Buffer.from(s.text, 'utf8'), segmentAad(callId, s.id, call.subject_ref));
          return {
            id: s.id,
            call_id: callId,
            subject_ref: call.subject_ref,
            speaker: s.speaker,
            start_ms: s.startMs,
            end_ms: s.endMs,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
            created_at: at,
          };
        });
        const inserted = await trx
          .insertInto('transcript_segments')
          .values(rows)
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute();
        if (inserted.length < segments.length) await refuseForeignIds(trx, callId, segments, inserted);
        return { accepted: inserted.length, duplicates: segments.length - inserted.length };
      });
    },

    /** Decrypted transcript of one call, ordered by time. */
    async forCall(trx: Kysely<Database>, callId: string, subjectRef: string): Promise<SegmentOutput[]> {
      const rows = await trx
        .selectFrom('transcript_segments')
        .selectAll()
        .where('call_id', '=', callId)
        .orderBy('start_ms')
        .orderBy('id')
        .execute();
      if (rows.length === 0) return [];
      const dek = await deps.subjectKeys.existingDataKey(trx, subjectRef);
      if (!dek) return [];
      return rows.map((r) => ({
        id: r.id,
        speaker: r.speaker,
        startMs: r.start_ms,
        endMs: r.end_ms,
        text: segmentText(dek, r),
      }));
    },
  };
}

export type TranscriptsService = ReturnType<typeof transcriptsServiceFactory>;
