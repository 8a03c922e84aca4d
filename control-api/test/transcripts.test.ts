import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSlotFile } from '../src/keys/file-key-store.ts';
import { createCall, createHarness, ENGINES, type Harness, HOOK_TIMEOUT_MS, newCallBody } from './helpers.ts';

describe.each(ENGINES)('transcript ingest on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(engine);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  const seg = (id: string, subjectId: string, text: string, startMs = 0) => ({
    id,
    subjectId,
    speaker: 'caller' as const,
    text,
    startMs,
    endMs: startMs + 500,
  });
  const ingest = (callId: string, segments: unknown[], role: 'agent' | 'admin' = 'agent') =>
    h.request('POST', `/v1/calls/${callId}/transcripts`, { role, body: { segments } });

  it('is idempotent by segment id', async () => {
    const { callId } = await createCall(h, 'subj-idem-seg');
    const a = seg(`${callId}-a`, 'subj-idem-seg', 'first words', 0);
    const b = seg(`${callId}-b`, 'subj-idem-seg', 'second words', 600);
    const c = seg(`${callId}-c`, 'subj-idem-seg', 'third words', 1200);
    expect(await (await ingest(callId, [a, b])).json()).toEqual({ accepted: 2, duplicates: 0 });
    expect(await (await ingest(callId, [a, b])).json()).toEqual({ accepted: 0, duplicates: 2 });
    expect(await (await ingest(callId, [b, c])).json()).toEqual({ accepted: 1, duplicates: 1 });
    const rows = await h.db.kysely
      .selectFrom('transcript_segments')
      .selectAll()
      .where('call_id', '=', callId)
      .execute();
    expect(rows).toHaveLength(3);
    const call = (await (await h.request('GET', `/v1/calls/${callId}`, { role: 'admin' })).json()) as {
      transcript: Array<{ text: string }>;
    };
    expect(call.transcript.map((s) => s.text)).toEqual(['first words', 'second words', 'third words']);
  });

  it('stores text only as AES-256-GCM ciphertext, bound to its call and segment', async () => {
    const { callId } = await createCall(h, 'subj-cipher');
    const text = 'my account number is 12345678';
    await ingest(callId, [seg(`${callId}-x`, 'subj-cipher', text)]);
    const row = await h.db.kysely
      .selectFrom('transcript_segments')
      .selectAll()
      .where('id', '=', `${callId}-x`)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(row.ciphertext).toString('utf8')).not.toContain('12345678');
    expect(Buffer.from(row.ciphertext).length).toBe(Buffer.byteLength(text) + 16);
    expect(Buffer.from(row.nonce).length).toBe(12);
    expect(JSON.stringify(row)).not.toContain('subj-cipher');
    // Moving a ciphertext to another call makes it undecryptable (AAD), not silently readable.
    const other = await createCall(h, 'subj-cipher');
    await h.db.kysely
      .updateTable('transcript_segments')
      .set({ call_id: other.callId })
      .where('id', '=', row.id)
      .execute();
    const res = await h.request('GET', `/v1/calls/${other.callId}`, { role: 'admin' });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { detail: string }).detail).toBe('something went wrong');
    await h.db.kysely.deleteFrom('transcript_segments').where('id', '=', row.id).execute();
  });

  it('accepts only the agent role', async () => {
    const { callId } = await createCall(h, 'subj-role');
    expect((await ingest(callId, [seg(`${callId}-r`, 'subj-role', 'hi')], 'admin')).status).toBe(403);
  });

  it('refuses segments of another subject with 422 naming the field', async () => {
    const { callId } = await createCall(h, 'subj-owner');
    const res = await ingest(callId, [
      seg(`${callId}-1`, 'subj-owner', 'ok'),
      seg(`${callId}-2`, 'subj-intruder', 'no'),
    ]);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { field: string }).field).toBe('segments.1.subjectId');
    const rows = await h.db.kysely
      .selectFrom('transcript_segments')
      .select('id')
      .where('call_id', '=', callId)
      .execute();
    expect(rows).toHaveLength(0);
  });

  it('refuses ingest without transcription consent (422 no_consent) and after withdrawal', async () => {
    const res = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body: newCallBody('subj-noconsent', {
        consents: [{ purpose: 'transcription', granted: false, noticeVersion: 'v3' }],
      }),
    });
    const { callId } = (await res.json()) as { callId: string };
    const refused = await ingest(callId, [seg(`${callId}-1`, 'subj-noconsent', 'x')]);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { reason: string }).reason).toBe('no_consent');

    const ok = await createCall(h, 'subj-withdraw');
    expect((await ingest(ok.callId, [seg(`${ok.callId}-1`, 'subj-withdraw', 'x')])).status).toBe(200);
    const withdraw = await h.request('POST', '/v1/subjects/subj-withdraw/consents', {
      role: 'dpo',
      body: { purpose: 'transcription', granted: false, noticeVersion: 'v3' },
    });
    expect(withdraw.status).toBe(201);
    expect((await ingest(ok.callId, [seg(`${ok.callId}-2`, 'subj-withdraw', 'y')])).status).toBe(422);
  });

  it('refuses ingest for a restricted subject with 423', async () => {
    const { callId } = await createCall(h, 'subj-restrict-seg');
    await h.request('PUT', '/v1/subjects/subj-restrict-seg/restriction', {
      role: 'dpo',
      body: { restricted: true, reason: 'objection pending' },
    });
    expect((await ingest(callId, [seg(`${callId}-1`, 'subj-restrict-seg', 'x')])).status).toBe(423);
    await h.request('PUT', '/v1/subjects/subj-restrict-seg/restriction', {
      role: 'dpo',
      body: { restricted: false, reason: 'objection resolved' },
    });
    expect((await ingest(callId, [seg(`${callId}-1`, 'subj-restrict-seg', 'x')])).status).toBe(200);
  });

  it('validates bodies: 400 naming the field, 415, 413 and 404 as problem JSON', async () => {
    const { callId } = await createCall(h, 'subj-valid');
    const backwards = await ingest(callId, [{ ...seg('s-1', 'subj-valid', 'x', 1000), endMs: 10 }]);
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as { field: string }).field).toBe('segments.0.endMs');
    const extra = await ingest(callId, [{ ...seg('s-2', 'subj-valid', 'x'), confidence: 0.9 }]);
    expect(extra.status).toBe(400);
    const badSpeaker = await ingest(callId, [{ ...seg('s-3', 'subj-valid', 'x'), speaker: 'robot' }]);
    expect(((await badSpeaker.json()) as { field: string }).field).toBe('segments.0.speaker');
    expect((await ingest(callId, [])).status).toBe(400);
    const text = await h.request('POST', `/v1/calls/${callId}/transcripts`, {
      role: 'agent',
      body: 'segments',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const huge = await h.request('POST', `/v1/calls/${callId}/transcripts`, {
      role: 'agent',
      body: JSON.stringify({ segments: [seg('s-4', 'subj-valid', 'x'.repeat(1_100_000))] }),
    });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toBe('application/problem+json');
    const missing = await ingest('00000000-0000-4000-8000-000000000001', [seg('s-5', 'subj-valid', 'x')]);
    expect(missing.status).toBe(404);
  });
});

describe.each(ENGINES)('master key rotation on %s', (engine) => {
  it(
    're-wraps subject keys under the new master key; transcripts stay readable',
    async () => {
      const first = await createHarness(engine);
      try {
        const { callId } = await createCall(first, 'subj-rotate');
        const res = await first.request('POST', `/v1/calls/${callId}/transcripts`, {
          role: 'agent',
          body: {
            segments: [
              {
                id: `${callId}-1`,
                subjectId: 'subj-rotate',
                speaker: 'caller',
                text: 'rotate me',
                startMs: 0,
                endMs: 5,
              },
            ],
          },
        });
        expect(res.status).toBe(200);
        const oldKey = first.config.keyring.keys.get('k1')!;
        const keys = new Map([
          ['k1', oldKey],
          ['k2', randomBytes(32)],
        ]);
        // The same key store directory, handed over to the restarted service.
        await first.api.services.keyStore.close();
        const second = await createHarness(
          engine,
          { keyring: { keys, activeKeyId: 'k2', indexKeyId: 'k1' }, keyStore: first.config.keyStore },
          first.testDb,
        );
        try {
          const rotated = await second.request('POST', '/v1/admin/keys/rewrap', { role: 'admin' });
          expect(await rotated.json()).toEqual({ rewrapped: 1, activeKeyId: 'k2' });
          const dir = (second.config.keyStore as { dir: string }).dir;
          const slots = readSlotFile(dir);
          expect(slots.map((s) => s.kekId)).toEqual(['k2']);
          expect((await second.request('POST', '/v1/admin/keys/rewrap', { role: 'admin' })).status).toBe(200);
          const call = (await (
            await second.request('GET', `/v1/calls/${callId}`, { role: 'admin' })
          ).json()) as {
            transcript: Array<{ text: string }>;
          };
          expect(call.transcript.map((s) => s.text)).toEqual(['rotate me']);
        } finally {
          await second.close();
        }
      } finally {
        await first.close();
      }
      // Opens its own PGlite inside the test: minutes on a loaded machine.
    },
    HOOK_TIMEOUT_MS,
  );
});
