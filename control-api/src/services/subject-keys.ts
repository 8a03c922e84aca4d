/**
 * Per-subject data keys. A subject's DEK is created on first use, stored only wrapped under the active master
 * key, and destroyed on erasure. Restriction of processing (Art. 18) is recorded on the same row.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { KeyringService } from '../lib/crypto.ts';

export function subjectKeysFactory(deps: { keyring: KeyringService; now: () => Date }) {
  return {
    activeKeyId: deps.keyring.activeKeyId,
    /** Returns the subject's DEK, creating it if needed (inside the caller's transaction). */
    async dataKey(trx: Kysely<Database>, subjectRef: string): Promise<Buffer> {
      const existing = await trx
        .selectFrom('subjects')
        .select(['kek_id', 'wrapped_dek'])
        .where('subject_ref', '=', subjectRef)
        .executeTakeFirst();
      if (existing) {
        return deps.keyring.unwrap(
          { kekId: existing.kek_id, wrapped: Buffer.from(existing.wrapped_dek) },
          subjectRef,
        );
      }
      const dek = deps.keyring.newDataKey();
      const wrapped = deps.keyring.wrap(dek, subjectRef);
      const inserted = await trx
        .insertInto('subjects')
        .values({
          subject_ref: subjectRef,
          kek_id: wrapped.kekId,
          wrapped_dek: wrapped.wrapped,
          created_at: deps.now(),
        })
        .onConflict((oc) => oc.column('subject_ref').doNothing())
        .returning('subject_ref')
        .executeTakeFirst();
      if (inserted) return dek;
      // Another request created it concurrently: use theirs.
      return this.dataKey(trx, subjectRef);
    },

    /** Returns the DEK if the subject has one; undefined after erasure. */
    async existingDataKey(trx: Kysely<Database>, subjectRef: string): Promise<Buffer | undefined> {
      const row = await trx
        .selectFrom('subjects')
        .select(['kek_id', 'wrapped_dek'])
        .where('subject_ref', '=', subjectRef)
        .executeTakeFirst();
      if (!row) return undefined;
      return deps.keyring.unwrap({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped_dek) }, subjectRef);
    },

    async restriction(trx: Kysely<Database>, subjectRef: string): Promise<Date | null> {
      const row = await trx
        .selectFrom('subjects')
        .select('restricted_at')
        .where('subject_ref', '=', subjectRef)
        .executeTakeFirst();
      return row?.restricted_at ? new Date(row.restricted_at) : null;
    },

    /** Re-wraps every DEK still under an old master key with the active one (key rotation). */
    async rewrapAll(trx: Kysely<Database>): Promise<number> {
      const rows = await trx
        .selectFrom('subjects')
        .select(['subject_ref', 'kek_id', 'wrapped_dek'])
        .where('kek_id', '<>', deps.keyring.activeKeyId)
        .execute();
      for (const r of rows) {
        const dek = deps.keyring.unwrap(
          { kekId: r.kek_id, wrapped: Buffer.from(r.wrapped_dek) },
          r.subject_ref,
        );
        const w = deps.keyring.wrap(dek, r.subject_ref);
        await trx
          .updateTable('subjects')
          .set({ kek_id: w.kekId, wrapped_dek: w.wrapped })
          .where('subject_ref', '=', r.subject_ref)
          .execute();
      }
      return rows.length;
    },
  };
}

export type SubjectKeys = ReturnType<typeof subjectKeysFactory>;
