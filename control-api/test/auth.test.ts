import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHarness,
  ENGINES,
  type Harness,
  HOOK_TIMEOUT_MS,
  openTestDb,
  type TestDb,
  TOKENS,
} from './helpers.ts';

const ISSUER = 'https://idp.example.eu/realms/riva';
const AUDIENCE = 'control-api';

describe.each(ENGINES)('authentication and authorisation on %s', (engine) => {
  let h: Harness;
  let limited: Harness;
  let testDb: TestDb;
  let jwksServer: Server;
  let jwksFetches = 0;
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let stranger: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    stranger = await generateKeyPair('RS256');
    const keys: JWK[] = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    jwksServer = createServer((_req, res) => {
      jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/certs`;
    testDb = await openTestDb(engine);
    h = await createHarness(
      engine,
      { oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, roleClaim: 'realm_access.roles' } },
      testDb,
    );
    limited = await createHarness(engine, { rateLimitPerMinute: 3 }, testDb);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
    await limited?.close();
    await testDb?.close();
    await new Promise<void>((r) => jwksServer?.close(() => r()));
  }, HOOK_TIMEOUT_MS);

  const oidcToken = (
    claims: Record<string, unknown>,
    options: {
      key?: Parameters<SignJWT['sign']>[0];
      alg?: string;
      kid?: string;
      iss?: string;
      aud?: string;
      exp?: number;
    } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'rsa-1' })
      .setIssuer(options.iss ?? ISSUER)
      .setAudience(options.aud ?? AUDIENCE)
      .setSubject('employee-42')
      .setIssuedAt()
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(options.key ?? rsa.privateKey);

  it('answers 401 with a Bearer challenge when no token is sent', async () => {
    const res = await h.request('GET', '/v1/calls');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="control-api"');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 401 invalid_token to malformed, unknown and near-miss tokens', async () => {
    for (const authorization of [
      'Basic YWRtaW46YWRtaW4=',
      'Bearer',
      'Bearer ',
      `bearer${TOKENS.admin}`,
      `Bearer ${TOKENS.admin}x`,
      `Bearer ${TOKENS.admin.slice(0, -1)}`,
      'Bearer not-a-configured-token-at-all',
      'Bearer a.b.c',
    ]) {
      const res = await h.request('GET', '/v1/calls', { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('answers 403 naming the needed roles when the role does not fit', async () => {
    const res = await h.request('POST', '/v1/calls', { role: 'viewer', body: {} });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ status: 403, need: ['admin'] });
    expect((await h.request('GET', '/v1/dsr', { role: 'agent' })).status).toBe(403);
    expect((await h.request('GET', '/v1/audit/verify', { role: 'viewer' })).status).toBe(403);
    expect((await h.request('POST', '/v1/admin/retention/run', { role: 'agent' })).status).toBe(403);
  });

  it('checks auth before validating the body', async () => {
    expect((await h.request('POST', '/v1/calls', { body: { nonsense: true } })).status).toBe(401);
  });

  it('accepts OIDC JWTs from the cached JWKS (RS256 and ES256) with the role claim', async () => {
    const rs = await oidcToken({ realm_access: { roles: ['dpo'] } });
    expect((await h.request('GET', '/v1/dsr', { token: rs })).status).toBe(200);
    const es = await oidcToken(
      { realm_access: { roles: ['viewer', 'offline_access'] } },
      { key: ec.privateKey, alg: 'ES256', kid: 'ec-1' },
    );
    expect((await h.request('GET', '/v1/calls', { token: es })).status).toBe(200);
    expect((await h.request('GET', '/v1/dsr', { token: es })).status).toBe(403);
    for (let i = 0; i < 5; i += 1) await h.request('GET', '/v1/dsr', { token: rs });
    expect(jwksFetches).toBe(1);
  });

  it('rejects OIDC JWTs with the wrong issuer, audience, key or algorithm, or expired', async () => {
    const roles = { realm_access: { roles: ['admin'] } };
    const bad = [
      await oidcToken(roles, { iss: 'https://evil.example.com' }),
      await oidcToken(roles, { aud: 'another-api' }),
      await oidcToken(roles, { exp: Math.floor(Date.now() / 1000) - 3600 }),
      await oidcToken(roles, { key: stranger.privateKey }),
      await oidcToken(roles, { key: stranger.privateKey, kid: 'unknown-kid' }),
      await new SignJWT(roles)
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject('x')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('a-shared-secret-guess-of-32-bytes!!')),
    ];
    for (const token of bad) expect((await h.request('GET', '/v1/calls', { token })).status).toBe(401);
  });

  it('treats a valid OIDC token without a known role as authenticated but forbidden', async () => {
    const token = await oidcToken({ realm_access: { roles: ['superuser'] } });
    expect((await h.request('GET', '/v1/calls', { token })).status).toBe(403);
  });

  it('rate-limits per principal with 429 and a RateLimit header', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await limited.request('GET', '/v1/calls', { role: 'viewer' });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.headers.get('ratelimit')).toMatch(/^limit=3, remaining=0, reset=\d+$/);
    expect(last?.headers.get('content-type')).toBe('application/problem+json');
    // Another principal has its own budget.
    expect((await limited.request('GET', '/v1/calls', { role: 'admin' })).status).toBe(200);
  });

  it('throttles repeated authentication failures from one client with 429', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 25; i += 1) {
      statuses.add(
        (await limited.request('GET', '/v1/calls', { token: `guess-${i}-xxxxxxxxxxxxxxxx` })).status,
      );
    }
    expect([...statuses].sort()).toEqual([401, 429]);
  });
});
