/**
 * The audit log under attack by someone with direct database access (a superuser who can disable triggers),
 * but without the audit key, which lives outside the database: rewriting an entry and recomputing the chain,
 * deleting the newest entries and emptying the table must all fail verification.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { type Kysely, type Selectable, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChainEntry, keyedHash, legacyHash } from '../src/audit/audit-chain.ts';
import type { AuditLogTable, Database } from '../src/db/schema.ts';
import { createCall, createHarness, ENGINES, type Harness, HOOK_TIMEOUT_MS } from './helpers.ts';

type Row = Selectable<AuditLogTable>;

interface Verification {
  ok: boolean;
  checked: number;
  firstBrokenSeq: number | null;
  reason: string | null;
  head: { seq: number; hash: string } | null;
}

const entryOf = (r: Row): ChainEntry => ({
  seq: Number(r.seq),
  at: new Date(r.at),
  actor: r.actor,
  action: r.action,
  target: r.target,
  details: r.details,
});

/** Runs `fn` with the audit_log triggers off, as a superuser attacker would. */
async function withoutTriggers(k: Kysely<Database>, fn: () => Promise<unknown>): Promise<void> {
  await sql`alter table audit_log disable trigger user`.execute(k);
  try {
    await fn();
  } finally {
    await sql`alter table audit_log enable trigger user`.execute(k);
  }
}

/** Re-chains every row from `fromSeq` on with `hash`, the way an attacker without the key would. */
async function rechain(
  k: Kysely<Database>,
  fromSeq: number,
  hash: (prev: string, e: ChainEntry) => string,
  alg: string,
): Promise<void> {
  const rows = await k.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  let prev = rows.find((r) => Number(r.seq) === fromSeq - 1)?.hash ?? '0'.repeat(64);
  for (const r of rows.filter((r) => Number(r.seq) >= fromSeq)) {
    const next = hash(prev, entryOf(r));
    await k
      .updateTable('audit_log')
      .set({ prev_hash: prev, hash: next, alg })
      .where('seq', '=', Number(r.seq))
      .execute();
    prev = next;
  }
}

describe.each(ENGINES)('tamper-evident audit log on %s', (engine) => {
  let h: Harness;
  let original: Row[];
  let k: Kysely<Database>;

  beforeAll(async () => {
    h = await createHarness(engine);
    k = h.db.kysely;
    for (let i = 0; i < 3; i += 1) await createCall(h, `subj-audit-${i}`);
    const consent = await h.request('POST', '/v1/subjects/subj-audit-0/consents', {
      role: 'dpo',
      body: { purpose: 'analytics', granted: true, noticeVersion: 'v1' },
    });
    expect(consent.status).toBe(201);
    await h.api.services.audit.witness();
    original = await k.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  const verify = async (query = ''): Promise<Verification> => {
    const res = await h.request('GET', `/v1/audit/verify${query}`, { role: 'dpo' });
    expect(res.status).toBe(200);
    return (await res.json()) as Verification;
  };

  /** Puts the original rows back, so each attack starts from the same intact log. */
  const restore = async () => {
    await withoutTriggers(k, async () => {
      await k.deleteFrom('audit_log').execute();
      await k
        .insertInto('audit_log')
        .values(original.map((r) => ({ ...r, seq: Number(r.seq), details: JSON.stringify(r.details) })))
        .execute();
    });
    expect(await verify()).toMatchObject({ ok: true, checked: original.length });
  };

  it('writes keyed entries, and its head matches the newest one', async () => {
    expect(original.length).toBeGreaterThanOrEqual(4);
    expect(original.every((r) => r.alg === 'hmac-sha256')).toBe(true);
    const last = original.at(-1)!;
    const v = await verify();
    expect(v).toEqual({
      ok: true,
      checked: original.length,
      firstBrokenSeq: null,
      reason: null,
      head: { seq: Number(last.seq), hash: last.hash },
    });
  });

  it('refuses UPDATE, DELETE and TRUNCATE while the triggers are on', async () => {
    await expect(sql`update audit_log set actor = 'x' where seq = 1`.execute(k)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from audit_log where seq = 1`.execute(k)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(k)).rejects.toThrow(/append-only/);
    expect((await verify()).ok).toBe(true);
  });

  it('detects an entry rewritten and the chain recomputed after it, without the key', async () => {
    const attacks: Array<[string, () => Promise<void>, string]> = [
      // Recomputed with plain SHA-256 but still claiming to be keyed.
      ['sha256, claimed keyed', () => rechain(k, 2, legacyHash, 'hmac-sha256'), 'rewritten'],
      // Recomputed with a guessed key.
      [
        'guessed key',
        () => rechain(k, 2, (p, e) => keyedHash(randomBytes(32), p, e), 'hmac-sha256'),
        'rewritten',
      ],
      // Marked as older unkeyed entries after a keyed one.
      ['sha256 from seq 2', () => rechain(k, 2, legacyHash, 'sha256'), 'unkeyed_after_keyed'],
    ];
    for (const [name, recompute, reason] of attacks) {
      await withoutTriggers(k, async () => {
        await sql`update audit_log set details = '{"rewritten": true}'::jsonb where seq = 2`.execute(k);
        await recompute();
      });
      expect(await verify(), name).toMatchObject({ ok: false, firstBrokenSeq: 2, reason });
      await restore();
    }
    // The whole log rewritten as unkeyed entries: a consistent chain, but not the one the signed head holds.
    await withoutTriggers(k, async () => {
      await sql`update audit_log set details = '{"rewritten": true}'::jsonb where seq = 2`.execute(k);
      await rechain(k, 1, legacyHash, 'sha256');
    });
    const whole = await verify();
    expect(whole).toMatchObject({
      ok: false,
      reason: 'head_mismatch',
      firstBrokenSeq: Number(original.at(-1)!.seq),
    });
    await restore();
  });

  it('detects entries deleted from the end, and its head does not move back', async () => {
    const lastSeq = Number(original.at(-1)!.seq);
    await withoutTriggers(k, () =>
      k
        .deleteFrom('audit_log')
        .where('seq', '>', lastSeq - 2)
        .execute(),
    );
    expect(await verify()).toMatchObject({ ok: false, reason: 'tail_missing', firstBrokenSeq: lastSeq - 1 });
    const head = (await (await h.request('GET', '/v1/audit/head', { role: 'viewer' })).json()) as {
      head: { seq: number };
    };
    expect(head.head.seq).toBe(lastSeq);
    await restore();
  });

  it('detects an emptied table (TRUNCATE with the trigger off)', async () => {
    await withoutTriggers(k, () => sql`truncate audit_log`.execute(k));
    expect(await verify()).toMatchObject({
      ok: false,
      checked: 0,
      reason: 'tail_missing',
      firstBrokenSeq: 1,
    });
    const metrics = await (await h.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/^audit_chain_valid\{[^}]*\} 0$/m);
    await restore();
  });

  it('exports the head in a log line, a gauge and an endpoint, and checks a head a witness kept', async () => {
    const last = original.at(-1)!;
    const res = await h.request('GET', '/v1/audit/head', { role: 'viewer' });
    expect(res.status).toBe(200);
    const { head } = (await res.json()) as {
      head: { seq: number; hash: string; at: string; alg: string; signature: string };
    };
    expect(head).toMatchObject({ seq: Number(last.seq), hash: last.hash, alg: 'hmac-sha256' });
    expect(head.signature).toMatch(/^[0-9a-f]{64}$/);
    const metrics = await (await h.request('GET', '/metrics')).text();
    expect(metrics).toContain(`audit_head_seq{hash="${last.hash.slice(0, 16)}"`);
    expect(metrics).toMatch(new RegExp(`^audit_head_seq\\{[^}]*\\} ${head.seq}$`, 'm'));
    const logged = h.logLines.map((l) => JSON.parse(l) as { msg: string; auditHead?: { seq: number } });
    expect(logged.some((l) => l.msg === 'audit head advanced' && l.auditHead?.seq === head.seq)).toBe(true);

    // A head recorded by an external witness: the log must still pass through it.
    const first = original[0]!;
    expect((await verify(`?seq=${Number(first.seq)}&hash=${first.hash}`)).ok).toBe(true);
    expect(await verify(`?seq=${Number(first.seq)}&hash=${'e'.repeat(64)}`)).toMatchObject({
      ok: false,
      reason: 'head_mismatch',
    });
    expect(await verify(`?seq=${head.seq + 5}&hash=${head.hash}`)).toMatchObject({
      ok: false,
      reason: 'tail_missing',
    });
    expect((await h.request('GET', '/v1/audit/verify?seq=1', { role: 'dpo' })).status).toBe(400);
  });

  it('refuses a head file that is not signed with the audit key', async () => {
    const path = h.config.audit.headFile;
    const saved = await readFile(path, 'utf8');
    const forged = { ...(JSON.parse(saved) as object), seq: 1, hash: original[0]!.hash };
    await writeFile(path, JSON.stringify(forged));
    try {
      expect(await verify()).toMatchObject({ ok: false, reason: 'head_invalid' });
    } finally {
      await writeFile(path, saved);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('advances the head past new entries once they commit', async () => {
    const before = Number(original.at(-1)!.seq);
    await createCall(h, 'subj-audit-new');
    await h.api.services.audit.witness();
    const { head } = (await (await h.request('GET', '/v1/audit/head', { role: 'viewer' })).json()) as {
      head: { seq: number };
    };
    expect(head.seq).toBe(before + 1);
    const onDisk = JSON.parse(await readFile(h.config.audit.headFile, 'utf8')) as { seq: number };
    expect(onDisk.seq).toBe(before + 1);
    expect((await verify()).ok).toBe(true);
  });
});
