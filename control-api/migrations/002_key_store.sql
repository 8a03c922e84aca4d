-- Subject data keys move to the key store (src/keys/): the subjects row keeps restriction state only. The
-- columns stay (nullable) so older rows can be moved out by the startup import and then cleared.
ALTER TABLE subjects ALTER COLUMN kek_id DROP NOT NULL;
ALTER TABLE subjects ALTER COLUMN wrapped_dek DROP NOT NULL;

-- TRUNCATE bypasses row triggers; this statement trigger refuses it as well.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Entries written from now on are HMAC-SHA256 chained under a key kept outside the database; `alg` says which
-- rule a row follows (older rows stay plain SHA-256 and may only precede the keyed ones).
ALTER TABLE audit_log ADD COLUMN alg text NOT NULL DEFAULT 'sha256';
