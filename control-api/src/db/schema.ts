/** Kysely table types for the control API schema (`migrations/*.sql`). */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Bytes = ColumnType<Uint8Array, Uint8Array, Uint8Array>;
/** jsonb: inserted as a JSON string, read back as a parsed value. */
type Json = ColumnType<unknown, string, string>;
/** int8 comes back as a number from PGlite and a string from `pg`. */
type Int8 = ColumnType<number | string, number | undefined, number>;

export interface SubjectsTable {
  subject_ref: string;
  /** Legacy (before migration 002): keys now live in the key store; null for every new row. */
  kek_id: string | null;
  wrapped_dek: ColumnType<Uint8Array | null, Uint8Array | null, Uint8Array | null>;
  created_at: Timestamp;
  restricted_at: Timestamp | null;
  restriction_reason: string | null;
}

export interface CallsTable {
  id: string;
  room_name: string;
  subject_ref: string;
  region: string;
  legal_basis: string;
  state: string;
  caller_identity: string;
  dispatch_id: string | null;
  agent_state: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  end_reason: string | null;
  updated_at: Timestamp;
}

export interface CallParticipantsTable {
  call_id: string;
  identity: string;
  kind: string;
  state: string;
  tracks_published: ColumnType<number, number | undefined, number>;
  joined_at: Timestamp | null;
  left_at: Timestamp | null;
}

export interface CallTransitionsTable {
  id: Generated<Int8>;
  call_id: string;
  from_state: string;
  to_state: string;
  cause: string;
  event_id: string | null;
  at: Timestamp;
}

export interface CallEgressTable {
  egress_id: string;
  call_id: string;
  status: string;
  locations: ColumnType<string[], string[] | undefined, string[]>;
  updated_at: Timestamp;
}

export interface WebhookEventsTable {
  seq: Generated<Int8>;
  id: string;
  event: string;
  room_name: string | null;
  facts: Json;
  created_at_s: Int8;
  received_at: Timestamp;
  processed_at: Timestamp | null;
  result: string | null;
}

export interface TranscriptSegmentsTable {
  id: string;
  call_id: string;
  subject_ref: string;
  speaker: string;
  start_ms: number;
  end_ms: number;
  nonce: Bytes;
  ciphertext: Bytes;
  created_at: Timestamp;
}

export interface ConsentRecordsTable {
  id: string;
  subject_ref: string;
  call_id: string | null;
  purpose: string;
  granted: boolean;
  notice_version: string;
  given_at: Timestamp;
  withdrawn_at: Timestamp | null;
}

export interface DsrRequestsTable {
  id: string;
  type: string;
  subject_ref: string | null;
  received_at: Timestamp;
  due_at: Timestamp;
  completed_at: Timestamp | null;
  status: string;
}

export interface ErasureLedgerTable {
  id: string;
  subject_ref: string;
  erased_at: Timestamp;
  counts: Json;
}

export interface IdempotencyKeysTable {
  principal: string;
  key: string;
  fingerprint: string;
  call_id: string | null;
  status: string;
  created_at: Timestamp;
}

export interface AuditLogTable {
  seq: Int8;
  at: Timestamp;
  actor: string;
  action: string;
  target: string | null;
  details: Json;
  prev_hash: string;
  hash: string;
  /** `hmac-sha256` (keyed, migration 002 on) or `sha256` (older rows). */
  alg: ColumnType<string, string | undefined, string>;
}

export interface Database {
  subjects: SubjectsTable;
  calls: CallsTable;
  call_participants: CallParticipantsTable;
  call_transitions: CallTransitionsTable;
  call_egress: CallEgressTable;
  webhook_events: WebhookEventsTable;
  transcript_segments: TranscriptSegmentsTable;
  consent_records: ConsentRecordsTable;
  dsr_requests: DsrRequestsTable;
  erasure_ledger: ErasureLedgerTable;
  idempotency_keys: IdempotencyKeysTable;
  audit_log: AuditLogTable;
}
