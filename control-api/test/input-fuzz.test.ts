/**
 * Property: NUL, control characters, unpaired surrogates, huge ids and extreme dates in any field of any route,
 * and in any field of a correctly signed webhook, are answered 2xx or 4xx, never 5xx; and a valid webhook
 * delivered alongside each of them is never failed by it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/config.ts';
import {
  createCall,
  createHarness,
  ENGINES,
  type Harness,
  HOOK_TIMEOUT_MS,
  postWebhook,
  webhookBody,
} from './helpers.ts';

const hostileString = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\u001b[2J',
    '\u007f',
    '\u0085',
    '\ud800',
    'x\udfff',
    '\r\n',
    'E'.repeat(20_000),
    '',
    ' ',
    '%00',
    "'; drop table calls; --",
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 300 }).map((s) => `${s}\u0000`),
);
const hostileDate = fc.oneof(
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '0000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59Z',
    '-000001-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '1970-01-01T00:00:00Z',
    '2026-01-01T00:00:00+14:00',
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53, -(2 ** 63), 1e300, Number.MAX_SAFE_INTEGER + 2),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileDate },
  hostileNumber,
  fc.constantFrom(null, true, false),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 2 }),
);

/** A value as it appears in a URL (path segment or query value). */
const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null'));

/**
 * Percent-encodes a path segment. A URL cannot carry an unpaired surrogate; it is sent as the bytes a careless
 * encoder would produce (CESU-8, `%ED%A0%80`), which is not valid UTF-8 either.
 */
function segment(v: unknown): string {
  const text = asText(v);
  try {
    return encodeURIComponent(text);
  } catch {
    return text
      .split('')
      .map((ch) => {
        const code = ch.charCodeAt(0);
        if (code < 0xd800 || code > 0xdfff) return encodeURIComponent(ch);
        const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
        return bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
      })
      .join('');
  }
}

type Setter = (target: Record<string, unknown>, value: unknown) => void;
const at =
  (...path: Array<string | number>): Setter =>
  (target, value) => {
    let node = target as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path.at(-1)!] = value;
  };

interface RouteCase {
  name: string;
  role: Role;
  method: string;
  /** Builds the request with `value` in field `field` (an index into `fields`). */
  build(field: number, value: unknown): { path: string; body?: unknown };
  fields: number;
}

function routeCases(callId: string): RouteCase[] {
  const pathCase = (
    name: string,
    role: Role,
    method: string,
    template: (id: string) => string,
  ): RouteCase => ({
    name,
    role,
    method,
    fields: 1,
    build: (_f, v) => ({ path: template(segment(v)) }),
  });
  const queryCase = (name: string, role: Role, method: string, path: string, keys: string[]): RouteCase => ({
    name,
    role,
    method,
    fields: keys.length,
    build: (f, v) => ({ path: `${path}?${new URLSearchParams({ [keys[f]!]: asText(v) })}` }),
  });
  const bodyCase = (
    name: string,
    role: Role,
    method: string,
    path: string,
    base: () => Record<string, unknown>,
    setters: Setter[],
  ): RouteCase => ({
    name,
    role,
    method,
    fields: setters.length,
    build: (f, v) => {
      const body = base();
      setters[f]!(body, v);
      return { path, body };
    },
  });
  return [
    bodyCase(
      'create call',
      'admin',
      'POST',
      '/v1/calls',
      () => ({
        subjectId: 'subj-fuzz-new',
        region: 'eu-central',
        legalBasis: 'consent',
        consents: [{ purpose: 'transcription', granted: true, noticeVersion: 'v3' }],
      }),
      [
        at('subjectId'),
        at('region'),
        at('legalBasis'),
        at('consents', 0, 'purpose'),
        at('consents', 0, 'granted'),
        at('consents', 0, 'noticeVersion'),
      ],
    ),
    queryCase('list calls', 'admin', 'GET', '/v1/calls', ['state', 'limit', 'before']),
    pathCase('get call', 'viewer', 'GET', (id) => `/v1/calls/${id}`),
    pathCase('end call', 'admin', 'DELETE', (id) => `/v1/calls/${id}`),
    bodyCase(
      'ingest transcript',
      'agent',
      'POST',
      `/v1/calls/${callId}/transcripts`,
      () => ({
        segments: [
          { id: `${callId}-f`, subjectId: 'subj-fuzz', speaker: 'caller', text: 'hi', startMs: 0, endMs: 1 },
        ],
      }),
      ['id', 'subjectId', 'speaker', 'text', 'startMs', 'endMs'].map((k) => at('segments', 0, k)),
    ),
    pathCase('ingest for a hostile call id', 'agent', 'POST', (id) => `/v1/calls/${id}/transcripts`),
    pathCase('export subject', 'dpo', 'GET', (id) => `/v1/subjects/${id}/export`),
    queryCase('erase subject (dry run)', 'dpo', 'DELETE', '/v1/subjects/subj-fuzz-other', [
      'reason',
      'dryRun',
    ]),
    pathCase(
      'erase a hostile subject',
      'dpo',
      'DELETE',
      (id) => `/v1/subjects/${id}?reason=fuzzing&dryRun=true`,
    ),
    bodyCase(
      'restrict',
      'dpo',
      'PUT',
      '/v1/subjects/subj-fuzz-other/restriction',
      () => ({ restricted: false, reason: 'fuzzing' }),
      [at('restricted'), at('reason')],
    ),
    pathCase('list consents', 'dpo', 'GET', (id) => `/v1/subjects/${id}/consents`),
    bodyCase(
      'record consent',
      'dpo',
      'POST',
      '/v1/subjects/subj-fuzz-other/consents',
      () => ({ purpose: 'analytics', granted: true, noticeVersion: 'v1', callId }),
      [at('purpose'), at('granted'), at('noticeVersion'), at('callId')],
    ),
    bodyCase(
      'open dsr',
      'dpo',
      'POST',
      '/v1/dsr',
      () => ({ type: 'access', subjectId: 'subj-fuzz-other', receivedAt: '2026-01-01T00:00:00Z' }),
      [at('type'), at('subjectId'), at('receivedAt')],
    ),
    queryCase('list dsr', 'dpo', 'GET', '/v1/dsr', ['open']),
    queryCase('list audit', 'admin', 'GET', '/v1/audit', ['after', 'limit']),
    queryCase('verify audit', 'dpo', 'GET', '/v1/audit/verify', ['seq', 'hash']),
    queryCase('audit head', 'viewer', 'GET', '/v1/audit/head', ['x']),
    queryCase('rewrap keys', 'admin', 'POST', '/v1/admin/keys/rewrap', ['x']),
  ];
}

/** Fields of a LiveKit event, each replaced in turn (in the protojson body, which is then signed). */
const WEBHOOK_FIELDS: Setter[] = [
  at('id'),
  at('event'),
  at('createdAt'),
  at('room', 'name'),
  at('participant', 'identity'),
  at('participant', 'kind'),
  at('participant', 'name'),
  at('track', 'sid'),
  at('egressInfo', 'egressId'),
  at('egressInfo', 'roomName'),
  at('egressInfo', 'fileResults', 0, 'location'),
  at('job', 'id'),
  at('job', 'room', 'name'),
  at('roomEndReason'),
];

describe.each(ENGINES)('hostile input fuzzing on %s', (engine) => {
  let h: Harness;
  let callId: string;
  let roomName: string;
  beforeAll(async () => {
    h = await createHarness(engine);
    ({ callId, roomName } = await createCall(h, 'subj-fuzz'));
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
  }, HOOK_TIMEOUT_MS);

  const expectNo5xx = async (res: Response, label: string) => {
    expect(res.status, label).toBeGreaterThanOrEqual(200);
    expect(res.status, label).toBeLessThan(500);
    if (res.status >= 400) expect(res.headers.get('content-type'), label).toBe('application/problem+json');
  };

  it('answers every route 2xx/4xx whatever is in any field', async () => {
    const cases = routeCases(callId);
    const tried = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: cases.length - 1 }),
        fc.nat(),
        hostileValue,
        async (which, field, value) => {
          const route = cases[which]!;
          const f = field % route.fields;
          const req = route.build(f, value);
          tried.add(route.name);
          const res = await h.request(route.method, req.path, {
            role: route.role,
            ...(req.body !== undefined ? { body: req.body } : {}),
          });
          await expectNo5xx(res, `${route.name} field ${f}`);
        },
      ),
      { numRuns: 400 },
    );
    expect(tried.size).toBe(cases.length);
  });

  it('answers every signed webhook 2xx/4xx whatever is in any field, failing no valid delivery', async () => {
    const base = () =>
      JSON.parse(
        webhookBody('egress_updated', {
          room: { name: roomName, sid: 'RM_f' },
          participant: { identity: 'caller-f', sid: 'PA_f', kind: 0, name: 'n' },
          track: { sid: 'TR_f' },
          egressInfo: { egressId: 'EG_f', roomName, status: 1, fileResults: [{ location: 's3://eu/x.ogg' }] },
          job: { id: 'AJ_f', room: { name: roomName } },
          roomEndReason: 1,
        }).body,
      ) as Record<string, unknown>;
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: WEBHOOK_FIELDS.length - 1 }), hostileValue, async (field, value) => {
        const event = base();
        WEBHOOK_FIELDS[field]!(event, value);
        const hostile = JSON.stringify(event);
        const good = webhookBody('participant_joined', {
          room: { name: roomName },
          participant: { identity: `fuzz-valid-${valid++}`, kind: 0 },
        });
        // Delivered together, so they can share one group-commit INSERT.
        const [bad, ok] = await Promise.all([postWebhook(h, hostile), postWebhook(h, good.body)]);
        await expectNo5xx(bad, `webhook field ${field}`);
        expect(ok.status).toBe(204);
      }),
      { numRuns: 300 },
    );
    await h.api.services.webhooks.drain();
    const failed = await h.db.kysely
      .selectFrom('webhook_events')
      .select('id')
      .where('result', '=', 'failed')
      .execute();
    expect(failed).toEqual([]);
    const joined = await h.db.kysely
      .selectFrom('call_participants')
      .select('identity')
      .where('call_id', '=', callId)
      .where('identity', 'like', 'fuzz-valid-%')
      .execute();
    expect(joined).toHaveLength(valid);
  });
});
