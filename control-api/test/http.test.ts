import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCall,
  createHarness,
  ENGINES,
  type Harness,
  HOOK_TIMEOUT_MS,
  postWebhook,
  signWebhook,
  webhookBody,
} from './helpers.ts';

describe.each(ENGINES)('HTTP surface on %s', (engine) => {
  let h: Harness;
  let callId: string;
  beforeAll(async () => {
    h = await createHarness(engine);
    callId = (await createCall(h, 'subj-fuzz')).callId;
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  it('serves OpenAPI 3.1 generated from the schemas, and Swagger UI', async () => {
    const doc = (await (await h.request('GET', '/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/webhooks/livekit',
        '/v1/calls',
        '/v1/calls/{id}',
        '/v1/calls/{callId}/transcripts',
        '/v1/subjects/{subjectId}',
        '/v1/subjects/{subjectId}/export',
        '/v1/dsr',
        '/v1/audit/verify',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/calls/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
    const ui = await h.request('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
  });

  it('answers /healthz and /readyz (database reachable)', async () => {
    expect((await h.request('GET', '/healthz')).status).toBe(200);
    const ready = await h.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('answers 404 and 405 (with Allow) as problem JSON', async () => {
    const missing = await h.request('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    const wrongMethod = await h.request('PATCH', `/v1/calls/${callId}`, { role: 'admin' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, DELETE');
    expect(wrongMethod.headers.get('content-type')).toBe('application/problem+json');
    expect((await h.request('GET', '/v1/webhooks/livekit')).status).toBe(405);
  });

  it('answers 413 to an oversized body on the small-body routes', async () => {
    const res = await h.request('POST', '/v1/calls', {
      role: 'admin',
      body: { subjectId: 'x'.repeat(70_000) },
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('records http_request_duration_seconds by route pattern, not by id', async () => {
    await h.request('GET', `/v1/calls/${callId}`, { role: 'viewer' });
    const text = await (await h.request('GET', '/metrics')).text();
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/calls\/:id"[^}]*\} \d+/);
    expect(text).not.toContain(callId);
  });

  // Property: whatever arrives, the webhook and ingest endpoints answer 2xx or 4xx, never 5xx.
  const jsonish = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record({
        segments: fc.array(
          fc.record(
            {
              id: fc.oneof(fc.string(), fc.integer()),
              subjectId: fc.oneof(fc.constant('subj-fuzz'), fc.string()),
              speaker: fc.oneof(fc.constantFrom('caller', 'agent'), fc.string()),
              text: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
              startMs: fc.oneof(fc.integer(), fc.double(), fc.string()),
              endMs: fc.oneof(fc.integer(), fc.double()),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
      })
      .map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  );

  it('never answers 5xx to malformed transcript bodies', async () => {
    await fc.assert(
      fc.asyncProperty(jsonish, fc.constantFrom('application/json', 'text/plain', ''), async (body, type) => {
        const res = await h.request('POST', `/v1/calls/${callId}/transcripts`, {
          role: 'agent',
          body,
          headers: type ? { 'content-type': type } : {},
        });
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(res.headers.get('content-type')).toBe('application/problem+json');
      }),
      { numRuns: 150 },
    );
  });

  it('never answers 5xx to malformed webhook bodies, signed or not', async () => {
    const event = fc.record(
      {
        event: fc.oneof(
          fc.constantFrom('room_started', 'participant_joined', 'room_finished', 'egress_ended'),
          fc.string(),
        ),
        id: fc.oneof(fc.string(), fc.integer()),
        createdAt: fc.oneof(
          fc.integer(),
          fc.string(),
          fc.constantFrom('12345678901234567890', '9223372036854775807', '-9223372036854775808'),
        ),
        room: fc.oneof(fc.record({ name: fc.string() }), fc.string(), fc.constant(null)),
        participant: fc.oneof(
          fc.record({ identity: fc.string(), kind: fc.oneof(fc.integer(), fc.string()) }),
          fc.integer(),
        ),
        egressInfo: fc.record({ egressId: fc.string(), status: fc.oneof(fc.integer(), fc.string()) }),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      jsonish,
      event.map((e) => JSON.stringify(e)),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('signed', 'unsigned', 'garbage'), async (raw, auth) => {
        const authorization = auth === 'signed' ? await signWebhook(raw) : auth === 'garbage' ? 'x.y.z' : '';
        const res = await postWebhook(h, raw, authorization);
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        if (auth !== 'signed') expect(res.status).toBe(401);
      }),
      { numRuns: 150 },
    );
    await h.api.services.webhooks.drain();
    const failed = await h.db.kysely
      .selectFrom('webhook_events')
      .select('id')
      .where('result', '=', 'failed')
      .execute();
    expect(failed).toEqual([]);
  });

  it('applies a signed event after fuzzing, so the outbox is not wedged', async () => {
    const room = `call-${callId}`;
    const ev = webhookBody('participant_joined', {
      room: { name: room },
      participant: { identity: 'caller-f', kind: 0 },
    });
    expect((await postWebhook(h, ev.body)).status).toBe(204);
    await h.api.services.webhooks.drain();
    const call = (await (await h.request('GET', `/v1/calls/${callId}`, { role: 'admin' })).json()) as {
      state: string;
    };
    expect(call.state).toBe('in_progress');
  });
});
