import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCall, createHarness, ENGINES, type Harness, HOOK_TIMEOUT_MS, newCallBody } from './helpers.ts';

describe.each(ENGINES)('calls on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(engine);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  const countRequests = (method: string, room?: string) =>
    h.livekit.requests.filter(
      (r) => r.method === method && (!room || r.body.name === room || r.body.room === room),
    ).length;

  it('creates an EU room, dispatches the agent with the call metadata and returns a caller token', async () => {
    const res = await h.request('POST', '/v1/calls', { role: 'admin', body: newCallBody('subj-create') });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    expect(body.roomName).toBe(`call-${body.callId}`);
    expect(body.region).toBe('eu-central');
    expect(body.state).toBe('created');
    expect(res.headers.get('location')).toBe(`/v1/calls/${body.callId}`);

    const create = h.livekit.requests.find((r) => r.method === 'CreateRoom' && r.body.name === body.roomName);
    expect(create).toBeDefined();
    const dispatch = h.livekit.requests.find(
      (r) => r.method === 'CreateDispatch' && r.body.room === body.roomName,
    );
    expect(dispatch?.body.agentName).toBe('riva-call-agent');
    expect(JSON.parse(String(dispatch?.body.metadata))).toEqual({
      callId: body.callId,
      subjectId: 'subj-create',
    });

    const claims = decodeJwt(String(body.callerToken)) as {
      sub: string;
      video: Record<string, unknown>;
      exp: number;
      iss: string;
    };
    expect(claims.iss).toBe('APItestkey');
    expect(claims.sub).toBe(body.callerIdentity);
    expect(claims.sub).not.toContain('subj-create');
    expect(claims.video).toMatchObject({
      roomJoin: true,
      room: body.roomName,
      canPublish: true,
      canPublishData: false,
    });
    expect(claims.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(600);

    const consents = await h.db.kysely
      .selectFrom('consent_records')
      .selectAll()
      .where('call_id', '=', String(body.callId))
      .execute();
    expect(consents).toMatchObject([{ purpose: 'transcription', granted: true, notice_version: 'v3' }]);
    // The subject id itself is in no column.
    const call = await h.db.kysely
      .selectFrom('calls')
      .selectAll()
      .where('id', '=', String(body.callId))
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(call)).not.toContain('subj-create');
  });

  it('honours Idempotency-Key: same body replays, another body is 422', async () => {
    const headers = { 'idempotency-key': 'idem-key-0001' };
    const first = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body: newCallBody('subj-idem'),
      headers,
    });
    expect(first.status).toBe(201);
    const a = (await first.json()) as { callId: string; roomName: string };
    const second = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body: newCallBody('subj-idem'),
      headers,
    });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const b = (await second.json()) as { callId: string };
    expect(b.callId).toBe(a.callId);
    expect(countRequests('CreateRoom', a.roomName)).toBe(1);
    const other = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body: newCallBody('subj-other'),
      headers,
    });
    expect(other.status).toBe(422);
    // The same key from another principal is a different key.
    const calls = await h.db.kysely
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', 'idem-key-0001')
      .execute();
    expect(calls).toHaveLength(1);
  });

  it('answers 409 while the first request with the same key is still in flight', async () => {
    h.livekit.setDelay(300);
    try {
      const headers = { 'idempotency-key': 'idem-key-inflight' };
      const p1 = h.request('POST', '/v1/calls', {
        role: 'admin',
        body: newCallBody('subj-inflight'),
        headers,
      });
      await new Promise((r) => setTimeout(r, 100));
      const p2 = await h.request('POST', '/v1/calls', {
        role: 'admin',
        body: newCallBody('subj-inflight'),
        headers,
      });
      expect(p2.status).toBe(409);
      expect((await p1).status).toBe(201);
    } finally {
      h.livekit.setDelay(0);
    }
  });

  it('refuses a non-EU region with 422 before touching LiveKit', async () => {
    const before = h.livekit.requests.length;
    const res = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body: newCallBody('subj-us', { region: 'us-east' }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { field: string }).field).toBe('region');
    expect(h.livekit.requests.length).toBe(before);
  });

  it('answers 502 when LiveKit fails, without failover retries and without a call row', async () => {
    h.livekit.failNext('CreateRoom', 503);
    const before = countRequests('CreateRoom');
    const res = await h.request('POST', '/v1/calls', { role: 'admin', body: newCallBody('subj-lkfail') });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(countRequests('CreateRoom')).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 50));
    const dispatchFail = h.livekit.requests.length;
    h.livekit.failNext('CreateDispatch', 500);
    expect(
      (await h.request('POST', '/v1/calls', { role: 'admin', body: newCallBody('subj-lkfail') })).status,
    ).toBe(502);
    // The room made for the failed dispatch is deleted again.
    await new Promise((r) => setTimeout(r, 50));
    expect(h.livekit.requests.slice(dispatchFail).map((r) => r.method)).toEqual([
      'CreateRoom',
      'CreateDispatch',
      'DeleteRoom',
    ]);
  });

  it('times out a stalled LiveKit call', async () => {
    // The test config's LiveKit timeout is 5 s (generous for a loaded CI machine).
    h.livekit.setDelay(9_000);
    try {
      const started = Date.now();
      const res = await h.request('POST', '/v1/calls', { role: 'admin', body: newCallBody('subj-slow') });
      expect(res.status).toBe(502);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      h.livekit.setDelay(0);
    }
  });

  it('lists and reads calls; only admin and dpo see the transcript', async () => {
    const { callId } = await createCall(h, 'subj-read');
    const ingest = await h.request('POST', `/v1/calls/${callId}/transcripts`, {
      role: 'agent',
      body: {
        segments: [
          {
            id: `${callId}-1`,
            subjectId: 'subj-read',
            speaker: 'caller',
            text: 'hello there',
            startMs: 0,
            endMs: 900,
          },
        ],
      },
    });
    expect(ingest.status).toBe(200);
    const list = await h.request('GET', '/v1/calls?state=created&limit=200', { role: 'viewer' });
    expect(list.status).toBe(200);
    const { calls } = (await list.json()) as { calls: Array<{ id: string; state: string }> };
    expect(calls.some((c) => c.id === callId)).toBe(true);
    expect(calls.every((c) => c.state === 'created')).toBe(true);

    for (const role of ['admin', 'dpo'] as const) {
      const res = await h.request('GET', `/v1/calls/${callId}`, { role });
      const body = (await res.json()) as { transcript?: Array<{ text: string }> };
      expect(body.transcript?.map((s) => s.text)).toEqual(['hello there']);
    }
    const viewer = (await (
      await h.request('GET', `/v1/calls/${callId}`, { role: 'viewer' })
    ).json()) as Record<string, unknown>;
    expect(viewer.transcript).toBeUndefined();
    expect(viewer.state).toBe('created');
    expect((await h.request('GET', `/v1/calls/${callId}`, { role: 'agent' })).status).toBe(403);
  });

  it('ends a call with DELETE (LiveKit deleteRoom), idempotently; 404 and 400 for bad ids', async () => {
    const { callId, roomName } = await createCall(h, 'subj-end');
    const res = await h.request('DELETE', `/v1/calls/${callId}`, { role: 'admin' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: string; endReason: string };
    expect(body).toMatchObject({ state: 'ended', endReason: 'api_delete' });
    expect(h.livekit.rooms.has(roomName)).toBe(false);
    const again = await h.request('DELETE', `/v1/calls/${callId}`, { role: 'admin' });
    expect(again.status).toBe(200);
    expect(countRequests('DeleteRoom', roomName)).toBe(1);
    expect(
      (await h.request('DELETE', '/v1/calls/00000000-0000-4000-8000-000000000000', { role: 'admin' })).status,
    ).toBe(404);
    const bad = await h.request('GET', '/v1/calls/not-a-uuid', { role: 'admin' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toBe('id');
    const audit = await h.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('target', '=', `call:${callId}`)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['call.create', 'call.end']);
  });

  it('refuses new calls for a subject whose processing is restricted', async () => {
    const put = await h.request('PUT', '/v1/subjects/subj-restricted-call/restriction', {
      role: 'dpo',
      body: { restricted: true, reason: 'contested accuracy' },
    });
    expect(put.status).toBe(200);
    const res = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body: newCallBody('subj-restricted-call'),
    });
    expect(res.status).toBe(423);
  });

  it('reports calls_active from the database', async () => {
    const text = await (await h.request('GET', '/metrics')).text();
    const active = await h.api.services.calls.countActive();
    expect(active).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`calls_active\\{[^}]*\\} ${active}\\b`));
  });
});
