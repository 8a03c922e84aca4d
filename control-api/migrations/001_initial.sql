-- Control API schema. Written for PostgreSQL 15 (no uuidv7/any_value/json_value) so it also runs on PGlite.
-- Personal data rule: subjects appear only as `subject_ref`, a keyed HMAC of the subject id, and transcript
-- text only as AES-256-GCM ciphertext under the subject's data key.

CREATE TABLE subjects (
  subject_ref     text PRIMARY KEY,
  kek_id          text NOT NULL,
  wrapped_dek     bytea NOT NULL,
  created_at      timestamptz NOT NULL,
  restricted_at   timestamptz,
  restriction_reason text
);

CREATE TABLE calls (
  id              uuid PRIMARY KEY,
  room_name       text NOT NULL UNIQUE,
  subject_ref     text NOT NULL,
  region          text NOT NULL,
  legal_basis     text NOT NULL,
  state           text NOT NULL,
  caller_identity text NOT NULL,
  dispatch_id     text,
  agent_state     text NOT NULL DEFAULT 'dispatched',
  created_at      timestamptz NOT NULL,
  started_at      timestamptz,
  ended_at        timestamptz,
  end_reason      text,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX calls_subject_idx ON calls (subject_ref);
CREATE INDEX calls_created_idx ON calls (created_at);
CREATE INDEX calls_open_idx ON calls (state) WHERE state <> 'ended';

CREATE TABLE call_participants (
  call_id         uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  identity        text NOT NULL,
  kind            text NOT NULL,
  state           text NOT NULL,
  tracks_published integer NOT NULL DEFAULT 0,
  joined_at       timestamptz,
  left_at         timestamptz,
  PRIMARY KEY (call_id, identity)
);

CREATE TABLE call_transitions (
  id              bigserial PRIMARY KEY,
  call_id         uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  from_state      text NOT NULL,
  to_state        text NOT NULL,
  cause           text NOT NULL,
  event_id        text,
  at              timestamptz NOT NULL
);
CREATE INDEX call_transitions_call_idx ON call_transitions (call_id);

CREATE TABLE call_egress (
  egress_id       text PRIMARY KEY,
  call_id         uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  status          text NOT NULL,
  locations       text[] NOT NULL DEFAULT '{}',
  updated_at      timestamptz NOT NULL
);
CREATE INDEX call_egress_call_idx ON call_egress (call_id);

-- De-duplication and outbox for verified LiveKit webhooks. Only allow-listed fields are kept (`facts`), never
-- the raw payload, which carries the room's TURN password.
CREATE TABLE webhook_events (
  seq             bigserial PRIMARY KEY,
  id              text NOT NULL UNIQUE,
  event           text NOT NULL,
  room_name       text,
  facts           jsonb NOT NULL,
  created_at_s    bigint NOT NULL,
  received_at     timestamptz NOT NULL,
  processed_at    timestamptz,
  result          text
);
CREATE INDEX webhook_events_pending_idx ON webhook_events (seq) WHERE processed_at IS NULL;
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);

CREATE TABLE transcript_segments (
  id              text PRIMARY KEY,
  call_id         uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  subject_ref     text NOT NULL,
  speaker         text NOT NULL,
  start_ms        integer NOT NULL,
  end_ms          integer NOT NULL,
  nonce           bytea NOT NULL,
  ciphertext      bytea NOT NULL,
  created_at      timestamptz NOT NULL
);
CREATE INDEX transcript_segments_subject_idx ON transcript_segments (subject_ref, id);
CREATE INDEX transcript_segments_call_idx ON transcript_segments (call_id, start_ms);

CREATE TABLE consent_records (
  id              uuid PRIMARY KEY,
  subject_ref     text NOT NULL,
  call_id         uuid REFERENCES calls (id) ON DELETE SET NULL,
  purpose         text NOT NULL,
  granted         boolean NOT NULL,
  notice_version  text NOT NULL,
  given_at        timestamptz NOT NULL,
  withdrawn_at    timestamptz
);
CREATE INDEX consent_records_subject_idx ON consent_records (subject_ref, purpose);

CREATE TABLE dsr_requests (
  id              uuid PRIMARY KEY,
  type            text NOT NULL,
  subject_ref     text,
  received_at     timestamptz NOT NULL,
  due_at          timestamptz NOT NULL,
  completed_at    timestamptz,
  status          text NOT NULL
);
CREATE INDEX dsr_requests_subject_idx ON dsr_requests (subject_ref);
CREATE INDEX dsr_requests_open_idx ON dsr_requests (due_at) WHERE completed_at IS NULL;

-- Records each erasure by subject reference so it can be replayed after restoring an older backup.
CREATE TABLE erasure_ledger (
  id              uuid PRIMARY KEY,
  subject_ref     text NOT NULL,
  erased_at       timestamptz NOT NULL,
  counts          jsonb NOT NULL
);

CREATE TABLE idempotency_keys (
  principal       text NOT NULL,
  key             text NOT NULL,
  fingerprint     text NOT NULL,
  call_id         uuid,
  status          text NOT NULL,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (principal, key)
);

-- Append-only, hash-chained audit log (Art. 30). Holds actions, roles, ids of calls/requests and counts only.
CREATE TABLE audit_log (
  seq             bigint PRIMARY KEY,
  at              timestamptz NOT NULL,
  actor           text NOT NULL,
  action          text NOT NULL,
  target          text,
  details         jsonb NOT NULL,
  prev_hash       text NOT NULL,
  hash            text NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
