import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSlotFile } from '../src/keys/file-key-store.ts';
import { open } from '../src/lib/crypto.ts';
import { oneMonthAfter } from '../src/services/dsr-requests.ts';
import { segmentText } from '../src/services/transcripts-service.ts';
import { createCall, createHarness, ENGINES, type Harness, HOOK_TIMEOUT_MS } from './helpers.ts';

/**
 * Runs `read`, or gives undefined if the path vanished meanwhile: other test files share the server and drop
 * their databases (`base/<oid>`) while the scan runs, and a checkpoint may remove old WAL segments.
 */
async function unlessVanished<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every file under `dir` that contains any of `needles` (raw bytes). */
async function filesContaining(dir: string, needles: Buffer[]): Promise<string[]> {
  const hits: string[] = [];
  async function walk(d: string) {
    for (const entry of (await unlessVanished(() => readdir(d, { withFileTypes: true }))) ?? []) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile() && ((await unlessVanished(() => stat(p)))?.size ?? 0) > 0) {
        const data = await unlessVanished(() => readFile(p));
        if (data && needles.some((n) => data.includes(n))) hits.push(p);
      }
    }
  }
  await walk(dir);
  return hits;
}

describe.each(ENGINES)('GDPR on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(engine);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  const ingest = async (callId: string, subjectId: string, texts: string[]) => {
    const res = await h.request('POST', `/v1/calls/${callId}/transcripts`, {
      role: 'agent',
      body: {
        segments: texts.map((text, i) => ({
          id: `${callId}-${i}`,
          subjectId,
          speaker: i % 2 === 0 ? 'caller' : 'agent',
          text,
          startMs: i * 1000,
          endMs: i * 1000 + 900,
        })),
      },
    });
    expect(res.status).toBe(200);
  };

  it('exports everything held about a subject as one JSON document, and nothing about others', async () => {
    const subject = 'subj-export';
    const c1 = await createCall(h, subject);
    const c2 = await createCall(h, subject);
    const other = await createCall(h, 'subj-export-other');
    await ingest(c1.callId, subject, ['first call, hello', 'first call, reply']);
    await ingest(c2.callId, subject, ['second call, hello']);
    await ingest(other.callId, 'subj-export-other', ['someone else entirely']);
    const opened = await h.request('POST', '/v1/dsr', {
      role: 'dpo',
      body: { type: 'access', subjectId: subject },
    });
    expect(opened.status).toBe(201);

    const res = await h.request('GET', `/v1/subjects/${subject}/export`, { role: 'dpo' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const raw = await res.text();
    const doc = JSON.parse(raw) as {
      format: string;
      subjectId: string;
      calls: Array<{ id: string; participants: unknown[] }>;
      transcriptSegments: Array<{ callId: string; text: string; speaker: string }>;
      consents: Array<{ purpose: string; granted: boolean; callId: string }>;
      requests: Array<{ type: string; status: string }>;
    };
    expect(doc.format).toBe('riva-call-agent/subject-export');
    expect(doc.subjectId).toBe(subject);
    expect(doc.calls.map((c) => c.id).sort()).toEqual([c1.callId, c2.callId].sort());
    expect(doc.transcriptSegments.map((s) => s.text).sort()).toEqual(
      ['first call, hello', 'first call, reply', 'second call, hello'].sort(),
    );
    expect(doc.transcriptSegments.find((s) => s.text === 'first call, reply')?.speaker).toBe('agent');
    expect(doc.consents).toHaveLength(2);
    expect(doc.consents.every((c) => c.purpose === 'transcription' && c.granted)).toBe(true);
    expect(doc.requests).toMatchObject([{ type: 'access', status: 'completed' }]);
    expect(raw).not.toContain('someone else');
    expect(raw).not.toContain(other.callId);

    const audit = await h.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'gdpr.export')
      .execute();
    expect(audit.length).toBeGreaterThan(0);
    expect(JSON.stringify(audit)).not.toContain(subject);
  });

  /**
   * The attacker's view: every slot in the key store directory unwrapped with every ENCRYPTION_KEY, tried on
   * each captured ciphertext. Returns the texts it could decrypt.
   */
  const attack = (
    segments: Array<{
      id: string;
      call_id: string;
      subject_ref: string;
      nonce: Uint8Array;
      ciphertext: Uint8Array;
    }>,
  ) => {
    const dir = (h.config.keyStore as { dir: string }).dir;
    const found: string[] = [];
    for (const slot of readSlotFile(dir)) {
      for (const [kekId, kek] of h.config.keyring.keys) {
        let dek: Buffer;
        try {
          dek = open(
            kek,
            { nonce: slot.wrapped.subarray(0, 12), ciphertext: slot.wrapped.subarray(12) },
            `dek:${slot.ref}`,
          );
        } catch {
          continue;
        }
        void kekId;
        for (const seg of segments) {
          try {
            found.push(segmentText(dek, seg));
          } catch {}
        }
      }
    }
    return found;
  };

  it('erases a subject: key destroyed, rows deleted, nothing left in the data files, response says what', async () => {
    const subject = 'subj-erase';
    const marker = `plaintext-marker-${Date.now()}-zq`;
    const c1 = await createCall(h, subject);
    await ingest(c1.callId, subject, [`${marker} one`, `${marker} two`, `${marker} three`]);
    const ref = h.api.services.keyring.subjectRef(subject);
    const keyDir = (h.config.keyStore as { dir: string }).dir;
    const dek = await h.api.services.keyStore.existingDataKey(ref);
    expect(dek).toBeDefined();
    const wrapped = readSlotFile(keyDir).find((s) => s.ref === ref)?.wrapped;
    expect(wrapped).toBeDefined();
    // No key material in the database: the subjects row carries none.
    const keyRow = await h.db.kysely
      .selectFrom('subjects')
      .selectAll()
      .where('subject_ref', '=', ref)
      .executeTakeFirstOrThrow();
    expect(keyRow.wrapped_dek).toBeNull();
    const captured = await h.db.kysely
      .selectFrom('transcript_segments')
      .select(['id', 'call_id', 'subject_ref', 'nonce', 'ciphertext'])
      .where('subject_ref', '=', ref)
      .execute();
    // Before erasure the attack works (so the check below is not vacuous).
    expect(attack(captured).sort()).toEqual([`${marker} one`, `${marker} three`, `${marker} two`]);

    const dry = await h.request('DELETE', `/v1/subjects/${subject}?reason=subject%20request&dryRun=true`, {
      role: 'dpo',
    });
    expect(dry.status).toBe(200);
    const dryBody = (await dry.json()) as { erased: { transcriptSegments: number; dataKeys: number } };
    expect(dryBody.erased.transcriptSegments).toBe(3);
    expect(dryBody.erased.dataKeys).toBe(1);
    expect((await h.request('GET', `/v1/calls/${c1.callId}`, { role: 'admin' })).status).toBe(200);

    const started = performance.now();
    const res = await h.request('DELETE', `/v1/subjects/${subject}?reason=subject%20request`, {
      role: 'dpo',
    });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { requestId: string; dryRun: boolean; erased: Record<string, number> };
    expect(body.dryRun).toBe(false);
    expect(body.erased).toEqual({
      transcriptSegments: 3,
      calls: 1,
      participants: 0,
      recordings: 0,
      consentRecords: 1,
      dataKeys: 1,
    });
    expect(elapsed).toBeLessThan(2_000);

    const k = h.db.kysely;
    expect(await k.selectFrom('subjects').selectAll().where('subject_ref', '=', ref).execute()).toHaveLength(
      0,
    );
    expect(
      await k.selectFrom('transcript_segments').selectAll().where('subject_ref', '=', ref).execute(),
    ).toHaveLength(0);
    expect(await k.selectFrom('calls').selectAll().where('subject_ref', '=', ref).execute()).toHaveLength(0);
    expect(
      await k.selectFrom('consent_records').selectAll().where('subject_ref', '=', ref).execute(),
    ).toHaveLength(0);
    expect(
      await k.selectFrom('dsr_requests').selectAll().where('subject_ref', '=', ref).execute(),
    ).toHaveLength(0);
    expect((await h.request('GET', `/v1/calls/${c1.callId}`, { role: 'admin' })).status).toBe(404);
    expect(await h.api.services.keyStore.existingDataKey(ref)).toBeUndefined();

    // Scan the database files and the key store after a checkpoint. The scanner demonstrably sees stored values
    // (the room name is a plain column); the text was never written in plaintext, the raw and the wrapped data
    // key are nowhere, and with everything on disk plus ENCRYPTION_KEY the erased text cannot be decrypted.
    await sql`checkpoint`.execute(k);
    const dataDir = h.testDb.dataDir;
    expect(dataDir).toBeDefined();
    if (dataDir && dek && wrapped) {
      expect((await filesContaining(dataDir, [Buffer.from(c1.roomName)])).length).toBeGreaterThan(0);
      expect(await filesContaining(dataDir, [Buffer.from(marker), dek, wrapped])).toEqual([]);
      expect(await filesContaining(keyDir, [Buffer.from(marker), dek, wrapped, Buffer.from(ref)])).toEqual(
        [],
      );
      // The ciphertext may well still be on disk (dead row versions, WAL): it is useless without the key.
      const onDisk = [];
      for (const seg of captured) {
        if ((await filesContaining(dataDir, [Buffer.from(seg.ciphertext)])).length > 0) onDisk.push(seg);
      }
      expect(readSlotFile(keyDir).length).toBeGreaterThan(0);
      expect(attack(captured)).toEqual([]);
      expect(attack(onDisk)).toEqual([]);
    }
    expect(h.logLines.join('')).not.toContain(marker);

    const audit = await k.selectFrom('audit_log').selectAll().where('action', '=', 'gdpr.erase').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(subject);
    expect(
      await k.selectFrom('erasure_ledger').selectAll().where('subject_ref', '=', ref).execute(),
    ).toHaveLength(1);

    const again = await h.request('DELETE', `/v1/subjects/${subject}?reason=repeat`, { role: 'dpo' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { erased: Record<string, number> }).erased.transcriptSegments).toBe(0);
    const exported = JSON.parse(
      await (await h.request('GET', `/v1/subjects/${subject}/export`, { role: 'dpo' })).text(),
    ) as { calls: unknown[]; transcriptSegments: unknown[] };
    expect(exported.calls).toEqual([]);
    expect(exported.transcriptSegments).toEqual([]);
  });

  it('requires a reason to erase and the dpo role for every subject endpoint', async () => {
    expect((await h.request('DELETE', '/v1/subjects/subj-x', { role: 'dpo' })).status).toBe(400);
    for (const role of ['admin', 'viewer', 'agent'] as const) {
      expect((await h.request('DELETE', '/v1/subjects/subj-x?reason=because', { role })).status).toBe(403);
      expect((await h.request('GET', '/v1/subjects/subj-x/export', { role })).status).toBe(403);
    }
  });

  it('records consent choices and their withdrawal (Art. 7)', async () => {
    const subject = 'subj-consent';
    const give = await h.request('POST', `/v1/subjects/${subject}/consents`, {
      role: 'dpo',
      body: { purpose: 'analytics', granted: true, noticeVersion: 'v1' },
    });
    expect(give.status).toBe(201);
    await h.request('POST', `/v1/subjects/${subject}/consents`, {
      role: 'dpo',
      body: { purpose: 'analytics', granted: false, noticeVersion: 'v2' },
    });
    const list = (await (
      await h.request('GET', `/v1/subjects/${subject}/consents`, { role: 'dpo' })
    ).json()) as {
      consents: Array<{ granted: boolean; withdrawnAt: string | null; noticeVersion: string }>;
    };
    expect(list.consents).toHaveLength(2);
    expect(list.consents[0]).toMatchObject({ granted: true, noticeVersion: 'v1' });
    expect(list.consents[0]?.withdrawnAt).not.toBeNull();
    expect(list.consents[1]).toMatchObject({ granted: false, withdrawnAt: null });
  });

  it('tracks request deadlines: one month, overdue flag and gauge (Art. 12(3))', async () => {
    expect(oneMonthAfter(new Date('2026-01-31T10:00:00Z')).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(oneMonthAfter(new Date('2026-03-15T00:00:00Z')).toISOString()).toBe('2026-04-15T00:00:00.000Z');
    const res = await h.request('POST', '/v1/dsr', {
      role: 'dpo',
      body: { type: 'rectification', subjectId: 'subj-late', receivedAt: '2026-01-31T10:00:00Z' },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; dueAt: string };
    expect(created.dueAt).toBe('2026-02-28T10:00:00.000Z');
    const list = (await (await h.request('GET', '/v1/dsr', { role: 'dpo' })).json()) as {
      requests: Array<{ id: string; overdue: boolean }>;
    };
    expect(list.requests.find((r) => r.id === created.id)?.overdue).toBe(true);
    const metrics = await (await h.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/gdpr_dsr_overdue\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/gdpr_requests_total\{[^}]*kind="erase"[^}]*\} [1-9]/);
  });

  it('keeps a hash-chained audit log that rejects updates and detects a tampered row', async () => {
    const verify = async () =>
      (await (await h.request('GET', '/v1/audit/verify', { role: 'dpo' })).json()) as {
        ok: boolean;
        checked: number;
        firstBrokenSeq: number | null;
      };
    const before = await verify();
    expect(before.ok).toBe(true);
    expect(before.checked).toBeGreaterThan(3);
    const k = h.db.kysely;
    await expect(sql`update audit_log set actor = 'someone' where seq = 2`.execute(k)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from audit_log where seq = 2`.execute(k)).rejects.toThrow(/append-only/);

    const original = await k
      .selectFrom('audit_log')
      .select('details')
      .where('seq', '=', 2)
      .executeTakeFirstOrThrow();
    await sql`alter table audit_log disable trigger audit_log_no_update`.execute(k);
    try {
      await sql`update audit_log set details = '{"calls": 0}'::jsonb where seq = 2`.execute(k);
      const broken = await verify();
      expect(broken).toMatchObject({ ok: false, firstBrokenSeq: 2 });
      await sql`update audit_log set details = ${JSON.stringify(original.details)}::jsonb where seq = 2`.execute(
        k,
      );
      expect((await verify()).ok).toBe(true);
    } finally {
      await sql`alter table audit_log enable trigger audit_log_no_update`.execute(k);
    }
    const entries = (await (await h.request('GET', '/v1/audit?limit=1000', { role: 'admin' })).json()) as {
      entries: Array<{ actor: string; action: string }>;
    };
    expect(entries.entries.map((e) => e.action)).toContain('gdpr.erase');
    expect(JSON.stringify(entries)).not.toMatch(/subj-/);
  });

  // Last: it moves the clock 31 days, which ages every call made above.
  it('deletes call data older than the retention period on demand, keeping recent calls', async () => {
    const old = await createCall(h, 'subj-retention');
    await ingest(old.callId, 'subj-retention', ['old words']);
    h.clock.now = new Date(Date.now() + 31 * 86_400_000);
    try {
      const recent = await createCall(h, 'subj-retention');
      expect((await h.request('POST', '/v1/admin/retention/run', { role: 'dpo' })).status).toBe(403);
      const res = await h.request('POST', '/v1/admin/retention/run', { role: 'admin' });
      expect(res.status).toBe(200);
      const out = (await res.json()) as { deleted: Record<string, number> };
      expect(out.deleted.calls).toBeGreaterThanOrEqual(1);
      expect(out.deleted.transcriptSegments).toBeGreaterThanOrEqual(1);
      expect((await h.request('GET', `/v1/calls/${old.callId}`, { role: 'admin' })).status).toBe(404);
      expect((await h.request('GET', `/v1/calls/${recent.callId}`, { role: 'admin' })).status).toBe(200);
      const consents = await h.db.kysely
        .selectFrom('consent_records')
        .selectAll()
        .where('subject_ref', '=', h.api.services.keyring.subjectRef('subj-retention'))
        .execute();
      // Consent proof outlives the call, detached from it.
      expect(consents.map((c) => c.call_id).sort()).toEqual([null, recent.callId].sort());
      const metrics = await (await h.request('GET', '/metrics')).text();
      expect(metrics).toMatch(/retention_deleted_rows_total\{[^}]*table="calls"[^}]*\} [1-9]/);
    } finally {
      h.clock.now = new Date();
    }
  });
});
