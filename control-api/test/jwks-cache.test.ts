/**
 * JWKS refreshes are bounded: tokens with random `kid`s, against an IdP whose JWKS endpoint fails or works,
 * cause at most one fetch per cooldown, and the last good key set keeps working while the endpoint is down.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../src/auth/auth.ts';
import { createJwksCache } from '../src/auth/jwks-cache.ts';

const ISSUER = 'https://idp.example.eu/realms/riva';
const AUDIENCE = 'control-api';

describe('JWKS cache', () => {
  let server: Server;
  let url: string;
  let mode: 'ok' | 'fail' = 'ok';
  let fetches = 0;
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    const keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' }];
    server = createServer((_req, res) => {
      fetches += 1;
      if (mode === 'fail') {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const token = (kid: string) =>
    new SignJWT({ roles: ['viewer'] })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('employee-7')
      .setExpirationTime('5m')
      .sign(rsa.privateKey);

  const authenticator = () =>
    createAuthenticator({
      staticTokens: [],
      oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: url, roleClaim: 'roles' },
    });

  const randomKid = () => `kid-${Math.random().toString(36).slice(2)}`;

  it('fetches once for 40 random kids while the endpoint fails, and refuses them all', async () => {
    mode = 'fail';
    fetches = 0;
    const auth = authenticator();
    const results = await Promise.all(
      Array.from({ length: 40 }, async () => auth.authenticate(`Bearer ${await token(randomKid())}`)),
    );
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(fetches).toBe(1);
    // A token with the right kid fails too while nothing was ever fetched, still without another fetch.
    expect((await auth.authenticate(`Bearer ${await token('rsa-1')}`)).ok).toBe(false);
    expect(fetches).toBe(1);
  });

  it('fetches once for 40 random kids while the endpoint works, and still accepts the known key', async () => {
    mode = 'ok';
    fetches = 0;
    const auth = authenticator();
    expect((await auth.authenticate(`Bearer ${await token('rsa-1')}`)).ok).toBe(true);
    for (let i = 0; i < 40; i += 1) {
      expect((await auth.authenticate(`Bearer ${await token(randomKid())}`)).ok).toBe(false);
    }
    expect((await auth.authenticate(`Bearer ${await token('rsa-1')}`)).ok).toBe(true);
    expect(fetches).toBe(1);
  });

  it('refetches after the cooldown, and keeps the last good keys while the endpoint is down', async () => {
    let clock = 1_000_000;
    mode = 'ok';
    fetches = 0;
    const cache = createJwksCache({ url, cooldownMs: 30_000, maxAgeMs: 60_000, now: () => clock });
    const header = { alg: 'RS256', kid: 'rsa-1' };
    const jws = { payload: '', signature: '', protected: '' };
    await expect(cache.getKey(header, jws)).resolves.toBeDefined();
    mode = 'fail';
    await expect(cache.getKey({ alg: 'RS256', kid: randomKid() }, jws)).rejects.toThrow();
    expect(cache.fetches).toBe(1);
    clock += 31_000;
    await expect(cache.getKey({ alg: 'RS256', kid: randomKid() }, jws)).rejects.toThrow();
    expect(cache.fetches).toBe(2);
    // Older than maxAge and the endpoint down: the old set is still used.
    clock += 61_000;
    await expect(cache.getKey(header, jws)).resolves.toBeDefined();
    expect(cache.fetches).toBe(3);
    expect(fetches).toBe(3);
  });
});
