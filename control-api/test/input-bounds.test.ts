/**
 * Inputs that used to be 5xx, sent the way a careless client or a hostile one would: each must be a 4xx
 * problem naming the field, and none may cost another request its answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCall,
  createHarness,
  ENGINES,
  type Harness,
  HOOK_TIMEOUT_MS,
  newCallBody,
  postWebhook,
  webhookBody,
} from './helpers.ts';

interface Problem {
  status: number;
  field?: string;
  detail?: string;
}

describe.each(ENGINES)('input bounds on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(engine);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  const expectProblem = async (res: Response, status: number, field: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as Problem;
    expect(body.field).toBe(field);
    return body;
  };

  const segment = (id: string, subjectId: string, text = 'hello') => ({
    id,
    subjectId,
    speaker: 'caller',
    text,
    startMs: 0,
    endMs: 500,
  });

  it('answers 400 naming the field to NUL and control characters in text fields', async () => {
    const nul = 'v\u0000';
    await expectProblem(
      await h.request('POST', '/v1/calls', {
        role: 'admin',
        body: newCallBody('subj-nul', {
          consents: [{ purpose: 'transcription', granted: true, noticeVersion: nul }],
        }),
      }),
      400,
      'consents.0.noticeVersion',
    );
    await expectProblem(
      await h.request('POST', '/v1/subjects/subj-nul/consents', {
        role: 'dpo',
        body: { purpose: 'analytics', granted: true, noticeVersion: 'v\u001b[31m' },
      }),
      400,
      'noticeVersion',
    );
    await expectProblem(
      await h.request('PUT', '/v1/subjects/subj-nul/restriction', {
        role: 'dpo',
        body: { restricted: true, reason: 'because\u0000' },
      }),
      400,
      'reason',
    );
    await expectProblem(
      await h.request('DELETE', '/v1/subjects/subj-nul?reason=subject%00request', { role: 'dpo' }),
      400,
      'reason',
    );
    // An unpaired surrogate is valid JSON but not storable in jsonb.
    await expectProblem(
      await h.request('PUT', '/v1/subjects/subj-nul/restriction', {
        role: 'dpo',
        body: '{"restricted":true,"reason":"ab\\ud800c"}',
      }),
      400,
      'reason',
    );
    await expectProblem(await h.request('GET', '/v1/subjects/subj%00x/export', { role: 'dpo' }), 400, 'path');
    // Free text keeps its line breaks.
    const { callId } = await createCall(h, 'subj-lines');
    const ok = await h.request('POST', `/v1/calls/${callId}/transcripts`, {
      role: 'agent',
      body: { segments: [segment(`${callId}-l`, 'subj-lines', 'line one\nline two\ttab')] },
    });
    expect(ok.status).toBe(200);
    await expectProblem(
      await h.request('POST', `/v1/calls/${callId}/transcripts`, {
        role: 'agent',
        body: { segments: [segment(`${callId}-n`, 'subj-lines', 'bell\u0007')] },
      }),
      400,
      'segments.0.text',
    );
  });

  it('answers 400 to dates outside 1970..9000 and to unsafe numbers', async () => {
    for (const before of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1969-12-31T23:59:59Z']) {
      await expectProblem(
        await h.request('GET', `/v1/calls?before=${encodeURIComponent(before)}`, { role: 'admin' }),
        400,
        'before',
      );
    }
    expect(
      (await h.request('GET', '/v1/calls?before=2026-01-01T00:00:00%2B01:00', { role: 'admin' })).status,
    ).toBe(200);
    for (const receivedAt of ['0000-01-01T00:00:00Z', '9999-12-15T00:00:00Z']) {
      await expectProblem(
        await h.request('POST', '/v1/dsr', {
          role: 'dpo',
          body: { type: 'access', subjectId: 'subj-dates', receivedAt },
        }),
        400,
        'receivedAt',
      );
    }
    await expectProblem(await h.request('GET', '/v1/audit?after=1e300', { role: 'admin' }), 400, 'after');
  });

  it('refuses contradictory consents in one request with 400', async () => {
    const body = await expectProblem(
      await h.request('POST', '/v1/calls', {
        role: 'admin',
        body: newCallBody('subj-contra', {
          consents: [
            { purpose: 'transcription', granted: true, noticeVersion: 'v3' },
            { purpose: 'transcription', granted: false, noticeVersion: 'v3' },
          ],
        }),
      }),
      400,
      'consents.1.purpose',
    );
    expect(body.detail).toMatch(/more than once/);
  });

  it('refuses signed webhooks with a NUL identity, a 20,000-character id or an unpaired surrogate with 400', async () => {
    const nul = webhookBody('participant_joined', {
      room: { name: 'call-poison' },
      participant: { identity: 'caller\u0000x', kind: 0 },
    });
    await expectProblem(await postWebhook(h, nul.body), 400, 'participant.identity');
    const long = webhookBody('room_started', { room: { name: 'call-long' } });
    const longBody = long.body.replace(long.id, 'E'.repeat(20_000));
    await expectProblem(await postWebhook(h, longBody), 400, 'id');
    const surrogate = webhookBody('participant_left', {
      room: { name: 'call-poison' },
      participant: { identity: 'caller\ud800', kind: 0 },
    });
    // The protobuf parser already refuses it as not a LiveKit event.
    const refused = await postWebhook(h, surrogate.body);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    const stored = await h.db.kysely
      .selectFrom('webhook_events')
      .select('id')
      .where('id', 'in', [nul.id, surrogate.id])
      .execute();
    expect(stored).toEqual([]);
  });

  it('answers every valid delivery 2xx when poison events arrive in the same moment', async () => {
    const { callId, roomName } = await createCall(h, 'subj-poison');
    const valid = Array.from({ length: 60 }, (_, i) =>
      webhookBody('participant_joined', {
        room: { name: roomName },
        participant: { identity: `caller-${i}`, kind: 0 },
      }),
    );
    const poison = Array.from({ length: 3 }, (_, i) =>
      webhookBody('participant_joined', {
        room: { name: roomName },
        participant: { identity: `bad\u0000${i}`, kind: 0 },
      }),
    );
    const mixed = [
      ...valid.slice(0, 20),
      poison[0]!,
      ...valid.slice(20, 40),
      poison[1]!,
      ...valid.slice(40),
      poison[2]!,
    ];
    const statuses = await Promise.all(mixed.map(async (ev) => (await postWebhook(h, ev.body)).status));
    const poisonIds = new Set(poison.map((p) => p.id));
    const validStatuses = statuses.filter((_, i) => !poisonIds.has(mixed[i]!.id));
    expect(validStatuses).toEqual(Array(60).fill(204));
    expect(statuses.filter((_, i) => poisonIds.has(mixed[i]!.id))).toEqual([400, 400, 400]);
    await h.api.services.webhooks.drain();
    const call = (await (await h.request('GET', `/v1/calls/${callId}`, { role: 'admin' })).json()) as {
      participants: unknown[];
    };
    expect(call.participants).toHaveLength(60);
  });

  it('answers 409 to an Idempotency-Key replayed after the call was erased', async () => {
    const key = 'idem-erased-0001';
    const body = newCallBody('subj-idem-erased');
    const first = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body,
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const erased = await h.request('DELETE', '/v1/subjects/subj-idem-erased?reason=subject%20request', {
      role: 'dpo',
    });
    expect(erased.status).toBe(200);
    const replay = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body,
      headers: { 'idempotency-key': key },
    });
    await expectProblem(replay, 409, 'Idempotency-Key');
  });

  it('answers 404, never a foreign-key error, to ingest racing an erasure', async () => {
    const statuses = new Set<number>();
    for (let round = 0; round < 6; round += 1) {
      const subject = `subj-race-${round}`;
      const { callId } = await createCall(h, subject);
      const ingest = (i: number) =>
        h.request('POST', `/v1/calls/${callId}/transcripts`, {
          role: 'agent',
          body: { segments: [segment(`${callId}-${i}`, subject, `race ${i}`)] },
        });
      const results = await Promise.all([
        ingest(0),
        ingest(1),
        h.request('DELETE', `/v1/subjects/${subject}?reason=race%20test`, { role: 'dpo' }),
        ingest(2),
        ingest(3),
      ]);
      for (const r of results) statuses.add(r.status);
      expect(results[2]!.status).toBe(200);
      for (const r of [results[0]!, results[1]!, results[3]!, results[4]!])
        expect([200, 404]).toContain(r.status);
      // Whatever won, nothing of the subject is left: no segments, no data key.
      const ref = h.api.services.keyring.subjectRef(subject);
      const left = await h.db.kysely
        .selectFrom('transcript_segments')
        .select('id')
        .where('call_id', '=', callId)
        .execute();
      expect(left).toEqual([]);
      expect(await h.api.services.keyStore.existingDataKey(ref)).toBeUndefined();
    }
    expect(statuses.has(404)).toBe(true);
  });

  it('answers 409 to a segment id already used by another call, and stores nothing of that batch', async () => {
    const a = await createCall(h, 'subj-seg-a');
    const b = await createCall(h, 'subj-seg-b');
    const post = (callId: string, subject: string, ids: string[]) =>
      h.request('POST', `/v1/calls/${callId}/transcripts`, {
        role: 'agent',
        body: { segments: ids.map((id) => segment(id, subject)) },
      });
    expect((await post(a.callId, 'subj-seg-a', ['shared-seg-1'])).status).toBe(200);
    // The same call repeating its own segment is still a duplicate.
    expect(await (await post(a.callId, 'subj-seg-a', ['shared-seg-1'])).json()).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    await expectProblem(
      await post(b.callId, 'subj-seg-b', ['own-seg-b', 'shared-seg-1']),
      409,
      'segments.1.id',
    );
    const stored = await h.db.kysely
      .selectFrom('transcript_segments')
      .select(['id', 'call_id'])
      .where('id', 'in', ['own-seg-b', 'shared-seg-1'])
      .execute();
    expect(stored).toEqual([{ id: 'shared-seg-1', call_id: a.callId }]);
  });

  it('treats a trailing slash like the route without it', async () => {
    const { callId } = await createCall(h, 'subj-slash');
    const list = await h.request('GET', '/v1/calls/', { role: 'admin' });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { calls: unknown[] }).calls.length).toBeGreaterThan(0);
    expect((await h.request('GET', `/v1/calls/${callId}/`, { role: 'viewer' })).status).toBe(200);
    expect(
      (await h.request('POST', '/v1/calls/', { role: 'admin', body: newCallBody('subj-slash') })).status,
    ).toBe(201);
    expect((await h.request('GET', '/v1/dsr/', { role: 'dpo' })).status).toBe(200);
    expect((await h.request('GET', '/v1/audit/verify/', { role: 'dpo' })).status).toBe(200);
    expect((await h.request('PATCH', '/v1/calls/', { role: 'admin' })).status).toBe(405);
  });
});
