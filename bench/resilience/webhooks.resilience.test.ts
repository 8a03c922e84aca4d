/**
 * 10,000 forged, tampered, replayed and fuzzed webhooks → accepted 0 (beyond the one legitimate first delivery
 * per event), 5xx 0.
 *
 * The real control API app (createControlApi on PGlite, the control API's own test harness) served by a real
 * HTTP server on loopback; requests go over TCP with fetch, 16 in flight. LEGIT signed events are delivered
 * once each first; then ATTACKS requests in a shuffled mix of:
 *  - forged: wrong secret, wrong API key, `alg: none`, a token signed over another body, a Bearer prefix,
 *    a random JWT-shaped string, no header;
 *  - tampered: a legitimate body and its token with one byte changed, the event id changed, whitespace added;
 *  - replayed: a legitimate delivery sent again byte for byte (must be 200 duplicate, not accepted), and with
 *    an expired token;
 *  - fuzzed: random bytes, random JSON, truncated protojson, invalid UTF-8, over-size bodies, odd content types,
 *    each either unsigned or signed correctly over the garbage (must be 400, never 5xx).
 *
 * Then the poison case: correctly signed events whose fields cannot be stored (a NUL in the participant
 * identity, a 20,000-character id) delivered in the same moment as valid ones, so they would share a
 * group-commit INSERT: valid deliveries failed 0, every poison event answered 400.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCall,
  createHarness,
  type Harness,
  signWebhook,
  webhookBody,
} from '../../control-api/test/helpers.ts';

const LEGIT = 200;
const ATTACKS = 10_000;
const IN_FLIGHT = 16;

let h: Harness;
let server: ReturnType<typeof serve>;
let base: string;

beforeAll(async () => {
  h = await createHarness('pglite');
  server = serve({ fetch: h.api.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await h?.close();
});

interface Delivery {
  kind: 'forged' | 'tampered' | 'replayed' | 'replay-expired' | 'fuzzed' | 'fuzzed-signed' | 'oversize';
  body: string | Uint8Array;
  authorization?: string;
  contentType?: string;
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

function unsignedJwt(body: string): string {
  const sha256 = createHash('sha256').update(body).digest('base64');
  const now = Math.floor(Date.now() / 1000);
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ iss: 'APItestkey', sha256, exp: now + 300 }))}.`;
}

function fuzzBody(): string | Uint8Array {
  switch (Math.floor(Math.random() * 7)) {
    case 0:
      return randomBytes(1 + Math.floor(Math.random() * 512));
    case 1:
      // Never a well-formed event: signed, that would be a legitimate delivery, not an attack.
      return JSON.stringify({ event: pick(['room_started', 42, null, {}]), id: pick([1, '', [], null]) });
    case 2:
      return webhookBody('room_started', { room: { name: 'call-fuzz' } }).body.slice(
        0,
        Math.floor(Math.random() * 40),
      );
    case 3:
      return Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x7b, 0x22]);
    case 4:
      return JSON.stringify([1, 2, { a: 'b' }]);
    case 5:
      return '';
    default:
      return JSON.stringify({
        event: 'room_started',
        room: { name: { nested: true } },
        createdAt: 'yesterday',
      });
  }
}

describe('webhook abuse', () => {
  it(`accepts none of ${ATTACKS} forged, tampered, replayed and fuzzed webhooks, with no 5xx`, async () => {
    const started = performance.now();
    const legit = await Promise.all(
      Array.from({ length: LEGIT }, async (_, i) => {
        const ev = webhookBody(pick(['room_started', 'participant_joined', 'room_finished']), {
          room: { name: `call-legit-${i}`, sid: `RM_${i}` },
        });
        return { ...ev, authorization: await signWebhook(ev.body) };
      }),
    );
    const statusCounts: Record<string, number> = {};
    const byKind: Record<string, Record<string, number>> = {};
    let fiveXx = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    // node:http rather than fetch: for an over-size body the server answers 413 and closes while the client is
    // still writing; the status is what counts, and fetch would only report "other side closed".
    type Post = {
      body: string | Uint8Array;
      authorization?: string;
      contentType?: string;
      oversize?: boolean;
    };
    const post = (d: Post, retried = false): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        const body = typeof d.body === 'string' ? Buffer.from(d.body, 'utf8') : Buffer.from(d.body);
        const headers: Record<string, string | number> = {
          'content-type': d.contentType ?? 'application/webhook+json',
          'content-length': body.length,
        };
        if (d.authorization !== undefined) headers.authorization = d.authorization;
        let status: number | undefined;
        // An over-size body gets its own connection: the server may close it after the 413.
        const via = d.oversize ? { agent: false as const } : { agent };
        const req = request(`${base}/v1/webhooks/livekit`, { method: 'POST', headers, ...via }, (res) => {
          status = res.statusCode ?? 0;
          res.resume();
          res.on('end', () => resolve(status!));
          res.on('error', () => resolve(status!));
        });
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (status !== undefined) return resolve(status);
          // A kept-alive socket the server had just closed: send again once, as Node's docs advise.
          if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) return resolve(post(d, true));
          reject(err);
        });
        req.end(body);
      });

    // The legitimate first deliveries.
    let legitAccepted = 0;
    for (const ev of legit) {
      if ((await post(ev)) === 204) legitAccepted++;
    }

    // The attack mix.
    const otherBody = webhookBody('room_started', { room: { name: 'call-other' } }).body;
    const otherToken = await signWebhook(otherBody);
    const wrongSecret = async (body: string) =>
      signWebhook(body, { apiSecret: 'another-secret-that-is-long-enough-for-hs256' });
    const make = async (i: number): Promise<Delivery> => {
      const ev = legit[i % LEGIT]!;
      switch (i % 10) {
        case 0:
          return { kind: 'forged', body: ev.body, authorization: await wrongSecret(ev.body) };
        case 1:
          return {
            kind: 'forged',
            body: ev.body,
            authorization: pick([
              await signWebhook(ev.body, { apiKey: 'APIattacker' }),
              unsignedJwt(ev.body),
              otherToken,
              `Bearer ${ev.authorization}`,
              `${b64url('{"alg":"HS256"}')}.${b64url(randomBytes(40))}.${b64url(randomBytes(32))}`,
              undefined,
            ]),
          };
        case 2:
        case 3: {
          const bytes = Buffer.from(ev.body);
          const at = Math.floor(Math.random() * bytes.length);
          bytes[at] = bytes[at]! ^ (1 + Math.floor(Math.random() * 127));
          const variants = [bytes.toString('latin1'), ev.body.replace(ev.id, `${ev.id}X`), `${ev.body} `];
          return { kind: 'tampered', body: pick(variants), authorization: ev.authorization };
        }
        case 4:
        case 5:
          return { kind: 'replayed', body: ev.body, authorization: ev.authorization };
        case 6:
          return {
            kind: 'replay-expired',
            body: ev.body,
            authorization: await signWebhook(ev.body, { expiresInSeconds: -120 }),
          };
        case 7:
          return {
            kind: 'fuzzed',
            body: fuzzBody(),
            authorization: pick([undefined, 'garbage', ev.authorization]),
            contentType: pick([
              'application/webhook+json',
              'application/json',
              'text/plain',
              'multipart/form-data',
            ]),
          };
        default: {
          if (i % 100 === 9) {
            // Over the 1 MB limit, signed: refused with 413 before it is read (the server may close at once).
            const body = `${ev.body}${' '.repeat(1024 * 1024)}`;
            return { kind: 'oversize', body, authorization: await signWebhook(body) };
          }
          const body = fuzzBody();
          const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
          return { kind: 'fuzzed-signed', body: text, authorization: await signWebhook(text) };
        }
      }
    };
    const order = Array.from({ length: ATTACKS }, (_, i) => i).sort(() => Math.random() - 0.5);
    let next = 0;
    let attackAccepted = 0;
    let replayNotDuplicate = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < order.length) {
          const d = await make(order[next++]!);
          const status = await post({ ...d, oversize: d.kind === 'oversize' }).catch((err: unknown) => {
            // Only an over-size body may be cut off (the server refuses it from its Content-Length).
            if (d.kind === 'oversize') return 'closed';
            throw err;
          });
          statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          byKind[d.kind] ??= {};
          byKind[d.kind]![status] = (byKind[d.kind]![status] ?? 0) + 1;
          if (typeof status === 'number' && status >= 500) fiveXx++;
          if (status === 204) attackAccepted++;
          if (d.kind === 'replayed' && status !== 200) replayNotDuplicate++;
        }
      }),
    );
    const stored = await h.db.kysely
      .selectFrom('webhook_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const summary = {
      test: 'webhook-abuse',
      legitimateEvents: LEGIT,
      legitimateAccepted: legitAccepted,
      attacks: ATTACKS,
      attacksAccepted: attackAccepted,
      fiveXx,
      replaysNotAnsweredDuplicate: replayNotDuplicate,
      storedEvents: Number(stored.n),
      statusCounts,
      byKind,
      seconds: Math.round((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(summary));
    expect(legitAccepted).toBe(LEGIT);
    expect(attackAccepted).toBe(0);
    expect(fiveXx).toBe(0);
    expect(replayNotDuplicate).toBe(0);
    expect(Number(stored.n)).toBe(LEGIT);
    agent.destroy();
  });

  it('fails no valid delivery when signed poison events arrive among valid ones', async () => {
    const VALID = 600;
    const POISON = 30;
    const { callId, roomName } = await createCall(h, 'subj-poison');
    const valid = Array.from({ length: VALID }, (_, i) =>
      webhookBody('participant_joined', {
        room: { name: roomName },
        participant: { identity: `caller-${i}`, kind: 0 },
      }),
    );
    const poison = Array.from({ length: POISON }, (_, i) => {
      if (i % 2 === 0) {
        return webhookBody('participant_joined', {
          room: { name: roomName },
          participant: { identity: `poison\u0000${i}`, kind: 0 },
        });
      }
      const ev = webhookBody('participant_joined', { room: { name: roomName } });
      return { id: 'E'.repeat(20_000), body: ev.body.replace(ev.id, 'E'.repeat(20_000)) };
    });
    // Every 20th delivery is a poison one, all sent at once over loopback.
    const mixed = valid.flatMap((ev, i) => (i % 20 === 0 && poison[i / 20] ? [poison[i / 20]!, ev] : [ev]));
    const poisonBodies = new Set(poison.map((p) => p.body));
    const results = await Promise.all(
      mixed.map(async (ev) => {
        const res = await fetch(`${base}/v1/webhooks/livekit`, {
          method: 'POST',
          headers: { 'content-type': 'application/webhook+json', authorization: await signWebhook(ev.body) },
          body: ev.body,
        });
        await res.arrayBuffer();
        return { poison: poisonBodies.has(ev.body), status: res.status };
      }),
    );
    await h.api.services.webhooks.drain();
    const joined = await h.db.kysely
      .selectFrom('call_participants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('call_id', '=', callId)
      .executeTakeFirstOrThrow();
    const count = (xs: typeof results) =>
      xs.reduce<Record<string, number>>((acc, r) => {
        acc[r.status] = (acc[r.status] ?? 0) + 1;
        return acc;
      }, {});
    const validResults = results.filter((r) => !r.poison);
    const poisonResults = results.filter((r) => r.poison);
    const summary = {
      test: 'webhook-poison',
      validDeliveries: VALID,
      poisonDeliveries: POISON,
      validFailed: validResults.filter((r) => r.status !== 204).length,
      validStatus: count(validResults),
      poisonStatus: count(poisonResults),
      fiveXx: results.filter((r) => r.status >= 500).length,
      participantsApplied: Number(joined.n),
    };
    console.log(JSON.stringify(summary));
    expect(summary.validFailed).toBe(0);
    expect(summary.poisonStatus).toEqual({ 400: POISON });
    expect(summary.fiveXx).toBe(0);
    expect(summary.participantsApplied).toBe(VALID);
  });
});
