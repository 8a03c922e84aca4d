/**
 * Per-subject data keys and restriction state. The DEK itself lives in the key store (src/keys/), never in a
 * database row; the `subjects` row only records that the subject exists and whether processing is restricted
 * (Art. 18).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { SubjectKeyStore } from '../keys/key-store.ts';

export function subjectKeysFactory(deps: { store: SubjectKeyStore; activeKeyId: string; now: () => Date }) {
  return {
    activeKeyId: deps.activeKeyId,
    store: deps.store,
    /** Returns the subject's DEK, creating it (and the subject row, inside the caller's transaction) if needed. */
    async dataKey(trx: Kysely<Database>, subjectRef: string): Promise<Buffer> {
      await trx
        .insertInto('subjects')
        .values({ subject_ref: subjectRef, kek_id: null, wrapped_dek: null, created_at: deps.now() })
        .onConflict((oc) => oc.column('subject_ref').doNothing())
        .execute();
      return deps.store.dataKey(subjectRef);
    },

    /** Returns the DEK if the subject has one; undefined after erasure. */
    async existingDataKey(_trx: Kysely<Database>, subjectRef: string): Promise<Buffer | undefined> {
      return deps.store.existingDataKey(subjectRef);
    },

    /** Destroys the subject's DEK in the key store (final). */
    destroy(subjectRef: string): Promise<boolean> {
      return deps.store.destroy(subjectRef);
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
    async rewrapAll(_trx: Kysely<Database>): Promise<number> {
      return deps.store.rewrapAll();
    },
  };
}

export type SubjectKeys = ReturnType<typeof subjectKeysFactory>;
