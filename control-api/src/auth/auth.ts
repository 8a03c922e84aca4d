/**
 * Bearer authentication: static development tokens (`CONTROL_API_TOKENS`) compared in constant time, and
 * OIDC JWTs verified against a cached remote JWKS (fetched at most once per cooldown, jwks-cache.ts) with pinned
 * issuer, audience and algorithms.
 * 401 means "who are you?" (with `WWW-Authenticate: Bearer`), 403 means "you may not".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { type JWTPayload, jwtVerify } from 'jose';
import { ROLES, type Role } from '../config.ts';
import { ApiError } from '../lib/problem.ts';
import type { ControlApiMetrics } from '../metrics.ts';
import type { AppEnv, Principal } from '../types.ts';
import { createJwksCache } from './jwks-cache.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface AuthConfig {
  staticTokens: ReadonlyArray<{ role: Role; token: string }>;
  oidc: { issuer: string; audience: string; jwksUrl: string; roleClaim: string } | undefined;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: string };

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function createAuthenticator(config: AuthConfig) {
  // Hash both sides so every comparison is over 32 bytes, and compare against every token without an early
  // exit, so timing reveals neither which token matched nor its length.
  const tokens = config.staticTokens.map((t) => ({ role: t.role, digest: sha256(t.token) }));
  const jwks = config.oidc
    ? createJwksCache({
        url: config.oidc.jwksUrl,
        timeoutMs: 5_000,
        cooldownMs: 30_000,
        maxAgeMs: 10 * 60_000,
      })
    : undefined;

  function matchStatic(token: string): Principal | undefined {
    const digest = sha256(token);
    let role: Role | undefined;
    for (const t of tokens) if (timingSafeEqual(digest, t.digest)) role = t.role;
    if (!role) return undefined;
    return { id: `static:${role}:${digest.subarray(0, 4).toString('hex')}`, roles: [role] };
  }

  function rolesFrom(payload: JWTPayload, claim: string): Role[] {
    let value: unknown = payload;
    for (const part of claim.split('.')) {
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    const list = typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) ? value : [];
    return list.filter((r): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r));
  }

  return {
    async authenticate(header: string | undefined): Promise<AuthResult> {
      if (!header) return { ok: false, reason: 'missing' };
      const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header.trim());
      if (!match?.[1]) return { ok: false, reason: 'malformed' };
      const token = match[1];
      const principal = matchStatic(token);
      if (principal) return { ok: true, principal };
      if (!jwks || !config.oidc || token.split('.').length !== 3)
        return { ok: false, reason: 'unknown_token' };
      try {
        const { payload } = await jwtVerify(token, jwks.getKey, {
          issuer: config.oidc.issuer,
          audience: config.oidc.audience,
          algorithms: ['RS256', 'ES256', 'EdDSA'],
          requiredClaims: ['exp', 'sub'],
          clockTolerance: 30,
        });
        const roles = rolesFrom(payload, config.oidc.roleClaim);
        const subject = createHash('sha256').update(String(payload.sub)).digest('base64url').slice(0, 12);
        return { ok: true, principal: { id: `oidc:${subject}`, roles } };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        return {
          ok: false,
          reason: typeof code === 'string' && code.startsWith('ERR_J') ? 'invalid_jwt' : 'jwks',
        };
      }
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

export function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

export interface AuthMiddlewareDeps {
  authenticator: Authenticator;
  /** Requests per principal per window. */
  limiter: RateLimiter;
  /** Failed authentications per client address per window. */
  failureLimiter: RateLimiter;
  metrics: ControlApiMetrics;
}

const CHALLENGE = 'Bearer realm="control-api"';

/** Authenticates the caller and checks that it holds one of `roles`. */
export function createRequireRole(deps: AuthMiddlewareDeps) {
  return (...roles: Role[]) =>
    createMiddleware<AppEnv>(async (c, next) => {
      const result = await deps.authenticator.authenticate(c.req.header('authorization'));
      if (!result.ok) {
        deps.metrics.authFailures.inc({ reason: result.reason });
        const limit = deps.failureLimiter.hit(clientAddress(c));
        if (!limit.allowed) throw tooMany(limit);
        const error = result.reason === 'missing' ? '' : ', error="invalid_token"';
        throw new ApiError(
          401,
          'Unauthorized',
          'a valid bearer token is required',
          {},
          {
            'www-authenticate': `${CHALLENGE}${error}`,
          },
        );
      }
      const limit = deps.limiter.hit(result.principal.id);
      if (!limit.allowed) throw tooMany(limit);
      if (!result.principal.roles.some((r) => roles.includes(r))) {
        deps.metrics.authFailures.inc({ reason: 'forbidden' });
        throw new ApiError(403, 'Forbidden', 'this role may not do this', { need: roles });
      }
      c.set('principal', result.principal);
      await next();
    });
}

function tooMany(limit: { limit: number; remaining: number; resetSeconds: number }): ApiError {
  return new ApiError(
    429,
    'Too Many Requests',
    'rate limit exceeded',
    {},
    {
      ratelimit: `limit=${limit.limit}, remaining=${limit.remaining}, reset=${limit.resetSeconds}`,
      'retry-after': String(limit.resetSeconds),
    },
  );
}
