/** What the GDPR services (export, erasure, restriction, consent, request deadlines) are built from. */
import type { Db } from '../db/db.ts';
import type { KeyringService } from '../lib/crypto.ts';
import type { ControlApiMetrics } from '../metrics.ts';
import type { AuditService } from './audit-service.ts';
import type { SubjectKeys } from './subject-keys.ts';

export interface GdprDeps {
  db: Db;
  keyring: KeyringService;
  subjectKeys: SubjectKeys;
  audit: AuditService;
  metrics: ControlApiMetrics;
  now: () => Date;
}
