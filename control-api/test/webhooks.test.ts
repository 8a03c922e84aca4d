import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  createCall,
  createHarness,
  ENGINES,
  type Harness,
  HOOK_TIMEOUT_MS,
  postWebhook,
  signWebhook,
  webhookBody,
} from './helpers.ts';

describe.each(ENGINES)('LiveKit webhooks on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(engine);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  async function callState(callId: string) {
    const res = await h.request('GET', `/v1/calls/${callId}`, { role: 'admin' });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      state: string;
      agentState: string;
      endReason: string | null;
      startedAt: string | null;
      participants: Array<{ identity: string; kind: string; state: string; tracksPublished: number }>;
      transitions: Array<{ from: string; to: string; cause: string }>;
    };
  }

  async function storedEvents(id: string) {
    return h.db.kysely.selectFrom('webhook_events').selectAll().where('id', '=', id).execute();
  }

  it('accepts a validly signed event with 204 and applies it after answering', async () => {
    const { callId, roomName } = await createCall(h, 'subj-wh-valid');
    const ev = webhookBody('participant_joined', {
      room: { name: roomName, sid: 'RM_1' },
      participant: { identity: 'caller-x', sid: 'PA_1', kind: 0 },
    });
    const res = await postWebhook(h, ev.body);
    expect(res.status).toBe(204);
    await h.api.services.webhooks.drain();
    const call = await callState(callId);
    expect(call.state).toBe('in_progress');
    expect(call.participants).toEqual([
      { identity: 'caller-x', kind: 'standard', state: 'joined', tracksPublished: 0 },
    ]);
  });

  it('rejects a tampered body with 401 and stores nothing', async () => {
    const ev = webhookBody('room_started', { room: { name: 'call-tampered', sid: 'RM_2' } });
    const auth = await signWebhook(ev.body);
    const tampered = ev.body.replace('call-tampered', 'call-tampereD');
    const res = await postWebhook(h, tampered, auth);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await storedEvents(ev.id)).toHaveLength(0);
  });

  it('rejects a token signed with the wrong secret or for the wrong key', async () => {
    const ev = webhookBody('room_started', { room: { name: 'call-wrongkey' } });
    const wrongSecret = await signWebhook(ev.body, { apiSecret: 'another-secret-that-is-long-enough-xx' });
    expect((await postWebhook(h, ev.body, wrongSecret)).status).toBe(401);
    const wrongKey = await signWebhook(ev.body, { apiKey: 'APIother' });
    expect((await postWebhook(h, ev.body, wrongKey)).status).toBe(401);
    expect(await storedEvents(ev.id)).toHaveLength(0);
  });

  it('rejects an expired token, a Bearer-prefixed token and a missing header', async () => {
    const ev = webhookBody('room_started', { room: { name: 'call-expired' } });
    const expired = await signWebhook(ev.body, { expiresInSeconds: -60 });
    expect((await postWebhook(h, ev.body, expired)).status).toBe(401);
    const bearer = `Bearer ${await signWebhook(ev.body)}`;
    expect((await postWebhook(h, ev.body, bearer)).status).toBe(401);
    const missing = await h.api.app.request('/v1/webhooks/livekit', {
      method: 'POST',
      headers: { 'content-type': 'application/webhook+json' },
      body: ev.body,
    });
    expect(missing.status).toBe(401);
    expect(await storedEvents(ev.id)).toHaveLength(0);
  });

  it('rejects an unsigned `alg: none` token (or one naming another alg) with 401 and stores nothing', async () => {
    const ev = webhookBody('room_started', { room: { name: 'call-alg-none' } });
    const b64url = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const sha256 = createHash('sha256').update(ev.body).digest('base64');
    const claims = b64url({
      iss: API_KEY,
      sha256,
      nbf: Math.floor(Date.now() / 1000) - 60,
      exp: Math.floor(Date.now() / 1000) + 300,
    });
    for (const alg of ['none', 'None', 'RS256', 'ES256']) {
      const res = await postWebhook(h, ev.body, `${b64url({ alg, typ: 'JWT' })}.${claims}.`);
      expect(res.status, alg).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await storedEvents(ev.id)).toHaveLength(0);
  });

  it('answers 400 to a correctly signed body that is not a LiveKit event', async () => {
    for (const body of ['not json', '{"event":5}', '{"room":"x"}']) {
      const res = await postWebhook(h, body, await signWebhook(body));
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('de-duplicates a replayed delivery: 200 the second time and exactly one state change', async () => {
    const { callId, roomName } = await createCall(h, 'subj-wh-replay');
    const ev = webhookBody('room_finished', { room: { name: roomName }, roomEndReason: 2 });
    const auth = await signWebhook(ev.body);
    expect((await postWebhook(h, ev.body, auth)).status).toBe(204);
    const again = await postWebhook(h, ev.body, auth);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate' });
    await h.api.services.webhooks.drain();
    const transitions = await h.db.kysely
      .selectFrom('call_transitions')
      .selectAll()
      .where('call_id', '=', callId)
      .execute();
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ from_state: 'created', to_state: 'ended', event_id: ev.id });
    const call = await callState(callId);
    expect(call.state).toBe('ended');
    expect(call.endReason).toBe('idle_timeout');
    expect(await storedEvents(ev.id)).toHaveLength(1);
  });

  it('follows a whole call through room, participant, track, egress and agent-job events', async () => {
    const { callId, roomName } = await createCall(h, 'subj-wh-life');
    const room = { name: roomName, sid: 'RM_life', metadata: 'TURN-SECRET-metadata' };
    const steps: Array<[string, Record<string, unknown>]> = [
      ['room_started', { room }],
      ['participant_joined', { room, participant: { identity: 'agent-1', kind: 4, name: 'Agent' } }],
      ['agent_job_started', { room, job: { id: 'AJ_1', room: { name: roomName }, state: { status: 1 } } }],
      ['participant_joined', { room, participant: { identity: 'caller-1', kind: 0, name: 'Alice Private' } }],
      ['track_published', { room, participant: { identity: 'caller-1', kind: 0 }, track: { sid: 'TR_1' } }],
      [
        'egress_ended',
        {
          room,
          egressInfo: {
            egressId: 'EG_1',
            roomName,
            status: 3,
            fileResults: [{ filename: 'rec.ogg', location: 's3://eu-bucket/rec.ogg' }],
          },
        },
      ],
      // Deleting the room disconnects the caller (DisconnectReason ROOM_DELETED), then the room finishes.
      ['participant_left', { room, participant: { identity: 'caller-1', kind: 0, disconnectReason: 5 } }],
      ['room_finished', { room, roomEndReason: 1 }],
      // A late repeat of an earlier kind of event must not reopen the call.
      ['participant_joined', { room, participant: { identity: 'caller-2', kind: 0 } }],
    ];
    for (const [event, fields] of steps) {
      const ev = webhookBody(event, fields);
      expect((await postWebhook(h, ev.body)).status).toBe(204);
    }
    await h.api.services.webhooks.drain();
    const call = await callState(callId);
    expect(call.state).toBe('ended');
    expect(call.endReason).toBe('api_delete');
    expect(call.agentState).toBe('running');
    expect(call.startedAt).not.toBeNull();
    expect(call.transitions.map((t) => `${t.from}>${t.to}`)).toEqual([
      'created>in_progress',
      'in_progress>ended',
    ]);
    expect(call.participants).toEqual([
      { identity: 'agent-1', kind: 'agent', state: 'left', tracksPublished: 0 },
      { identity: 'caller-1', kind: 'standard', state: 'left', tracksPublished: 1 },
    ]);
    const egress = await h.db.kysely
      .selectFrom('call_egress')
      .selectAll()
      .where('call_id', '=', callId)
      .execute();
    expect(egress).toMatchObject([
      { egress_id: 'EG_1', status: 'complete', locations: ['s3://eu-bucket/rec.ogg'] },
    ]);
    // Only allow-listed facts are stored; names and room metadata never reach the database or the logs.
    const stored = JSON.stringify(await h.db.kysely.selectFrom('webhook_events').select('facts').execute());
    expect(stored).not.toContain('Alice Private');
    expect(stored).not.toContain('TURN-SECRET');
    expect(h.logLines.join('')).not.toContain('Alice Private');
  });

  it('a caller who hangs up ends the call with cause hang-up; the agent leaving afterwards changes nothing', async () => {
    const { callId, roomName } = await createCall(h, 'subj-wh-hangup');
    const room = { name: roomName, sid: 'RM_hangup' };
    const steps: Array<[string, Record<string, unknown>]> = [
      ['participant_joined', { room, participant: { identity: 'agent-h', kind: 4 } }],
      ['participant_joined', { room, participant: { identity: 'caller-h', kind: 0 } }],
      // CLIENT_INITIATED: the caller closed the connection.
      ['participant_left', { room, participant: { identity: 'caller-h', kind: 0, disconnectReason: 1 } }],
      ['participant_left', { room, participant: { identity: 'agent-h', kind: 4, disconnectReason: 1 } }],
    ];
    for (const [event, fields] of steps) {
      expect((await postWebhook(h, webhookBody(event, fields).body)).status).toBe(204);
    }
    await h.api.services.webhooks.drain();
    const call = await callState(callId);
    expect(call.state).toBe('ended');
    expect(call.endReason).toBe('hang-up');
    expect(call.startedAt).not.toBeNull();
    expect(h.livekit.requests.filter((r) => r.method === 'ListDispatch')).toHaveLength(0);
  });

  it('an agent lost while the caller stays is replaced by a new dispatch marked resumed', async () => {
    const { callId, roomName } = await createCall(h, 'subj-wh-agent-lost');
    const room = { name: roomName, sid: 'RM_lost' };
    const steps: Array<[string, Record<string, unknown>]> = [
      ['participant_joined', { room, participant: { identity: 'agent-l', kind: 4 } }],
      ['participant_joined', { room, participant: { identity: 'caller-l', kind: 0 } }],
      // SIGNAL_CLOSE: the agent's process went away without leaving.
      ['participant_left', { room, participant: { identity: 'agent-l', kind: 4, disconnectReason: 9 } }],
    ];
    for (const [event, fields] of steps) {
      expect((await postWebhook(h, webhookBody(event, fields).body)).status).toBe(204);
    }
    await h.api.services.webhooks.drain();
    expect((await callState(callId)).agentState).toBe('redispatched');
    const dispatches = h.livekit.requests.filter(
      (r) => r.method === 'CreateDispatch' && r.body.room === roomName,
    );
    expect(dispatches).toHaveLength(2);
    const first = JSON.parse(String(dispatches[0]?.body.metadata)) as Record<string, unknown>;
    expect(JSON.parse(String(dispatches[1]?.body.metadata))).toEqual({ ...first, resumed: true });
    expect((await callState(callId)).state).toBe('in_progress');
  });

  it('accepts unknown events and events for unknown rooms without changing anything', async () => {
    const ev = webhookBody('something_new', { room: { name: 'call-nobody' } });
    expect((await postWebhook(h, ev.body)).status).toBe(204);
    await h.api.services.webhooks.drain();
    const [row] = await storedEvents(ev.id);
    expect(row?.result).toBe('unknown_room');
  });

  it('reconciles with LiveKit: a vanished room ends its call, present participants are recorded', async () => {
    const gone = await createCall(h, 'subj-rec-gone');
    const live = await createCall(h, 'subj-rec-live');
    h.livekit.rooms.delete(gone.roomName);
    h.livekit.rooms
      .get(live.roomName)
      ?.participants.push({ identity: 'caller-r', kind: 'STANDARD' }, { identity: 'agent-r', kind: 'AGENT' });
    h.clock.now = new Date(Date.now() + 60_000);
    try {
      const res = await h.request('POST', '/v1/admin/reconcile/run', { role: 'admin' });
      expect(res.status).toBe(200);
      const out = (await res.json()) as { ended: number; participantsUpdated: number };
      expect(out.ended).toBeGreaterThanOrEqual(1);
    } finally {
      h.clock.now = new Date();
    }
    const goneCall = await callState(gone.callId);
    expect(goneCall.state).toBe('ended');
    expect(goneCall.endReason).toBe('room_gone');
    const liveCall = await callState(live.callId);
    expect(liveCall.state).toBe('in_progress');
    expect(liveCall.agentState).toBe('joined');
    expect(liveCall.participants.map((p) => `${p.identity}:${p.kind}:${p.state}`).sort()).toEqual([
      'agent-r:agent:joined',
      'caller-r:standard:joined',
    ]);
    const listed = h.livekit.requests.filter((r) => r.method === 'ListRooms');
    expect(listed.length).toBeGreaterThan(0);
  });

  it('counts deliveries in webhook_events_total by event and result', async () => {
    const metrics = await h.request('GET', '/metrics');
    const text = await metrics.text();
    expect(text).toMatch(/webhook_events_total\{[^}]*event="room_finished"[^}]*result="duplicate"[^}]*\} 1/);
    expect(text).toMatch(/webhook_events_total\{[^}]*event="unknown"[^}]*result="unauthorized"[^}]*\} \d+/);
    expect(text).toContain('calls_active');
  });
});
