/**
 * Control API configuration: read once by `main.ts` with the shared `loadConfig` and passed down.
 * Nothing else in control-api reads process.env.
 */
import { hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { type Env, envFields, loadConfig } from '../../common/src/config.ts';
import type { KeyStoreConfig } from './keys/key-store.ts';

const tokenList = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const out: Array<{ role: Role; token: string }> = [];
    for (const entry of v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)) {
      const idx = entry.indexOf(':');
      const role = entry.slice(0, idx);
      const token = entry.slice(idx + 1);
      if (idx <= 0 || !ROLES.includes(role as Role) || token.length < 16) {
        ctx.addIssue({
          code: 'custom',
          message: `expected role:token with role in ${ROLES.join('|')} and a token of at least 16 characters`,
        });
        return z.NEVER;
      }
      out.push({ role: role as Role, token });
    }
    return out;
  });

export const ROLES = ['admin', 'dpo', 'agent', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const controlApiEnvSchema = z.object({
  PORT: envFields.port(8080),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().optional(),
  DATA_DIR: z.string().default('./data'),
  CONTROL_API_TOKENS: tokenList,
  OIDC_ISSUER: z.string().optional(),
  OIDC_AUDIENCE: z.string().optional(),
  OIDC_JWKS_URL: envFields.url().optional(),
  OIDC_ROLE_CLAIM: z.string().default('roles'),
  LIVEKIT_URL: envFields.url().default('http://127.0.0.1:7880'),
  LIVEKIT_API_KEY: z.string().default('devkey'),
  LIVEKIT_API_SECRET: z.string().default('secret'),
  LIVEKIT_TIMEOUT_SECONDS: envFields.positiveInt(5),
  /** base64 of 32 bytes, or a keyring `id:base64,id:base64` (the first entry is the index key). */
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_KEY_ID: z.string().default('k1'),
  KEY_STORE: z.enum(['file', 'vault']).default('file'),
  /** Own directory for the file key store; keep it out of database backups. */
  KEY_STORE_DIR: z.string().default('./data/keys'),
  VAULT_ADDR: envFields.url().optional(),
  VAULT_TOKEN: z.string().optional(),
  VAULT_NAMESPACE: z.string().optional(),
  VAULT_TRANSIT_MOUNT: z.string().default('transit'),
  VAULT_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,64}$/, 'letters, digits, - and _ only')
    .default('riva-subject-'),
  VAULT_TIMEOUT_SECONDS: envFields.positiveInt(5),
  /**
   * base64 of at least 32 bytes: the audit chain's HMAC key. Unset: derived (HKDF) from the ENCRYPTION_KEY
   * index key, which is also kept outside the database.
   */
  AUDIT_HMAC_KEY: z
    .string()
    .refine((v) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length >= 32, {
      message: 'expected base64 of at least 32 bytes',
    })
    .optional(),
  /** The signed audit head; outside the database and its backups. Default: KEY_STORE_DIR/audit-head.json. */
  AUDIT_HEAD_FILE: z.string().optional(),
  RETENTION_DAYS: envFields.positiveInt(30),
  RETENTION_INTERVAL_MINUTES: envFields.positiveInt(60),
  RECONCILE_INTERVAL_SECONDS: envFields.positiveInt(60),
  ALLOWED_REGIONS: envFields.list(['eu-central']),
  AGENT_NAME: z.string().default('riva-call-agent'),
  RATE_LIMIT_PER_MINUTE: envFields.positiveInt(600),
  LOG_LEVEL: envFields.logLevel(),
});

export type ControlApiEnv = z.infer<typeof controlApiEnvSchema>;

export interface ControlApiConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  staticTokens: Array<{ role: Role; token: string }>;
  oidc: { issuer: string; audience: string; jwksUrl: string; roleClaim: string } | undefined;
  livekit: { url: string; apiKey: string; apiSecret: string; timeoutSeconds: number };
  /** Master keys by id; `activeKeyId` wraps new subject keys, `indexKeyId` derives the subject index. */
  keyring: { keys: Map<string, Buffer>; activeKeyId: string; indexKeyId: string };
  /** Where subject data keys live (src/keys/). */
  keyStore: KeyStoreConfig;
  /** The audit chain key and the file holding the signed audit head, both outside the database. */
  audit: { hmacKey: Buffer; headFile: string };
  retentionDays: number;
  retentionIntervalMinutes: number;
  reconcileIntervalSeconds: number;
  allowedRegions: string[];
  agentName: string;
  rateLimitPerMinute: number;
  logLevel: string;
}

function parseKeyring(raw: string | undefined, activeKeyId: string): ControlApiConfig['keyring'] {
  const keys = new Map<string, Buffer>();
  if (raw === undefined) throw new Error('ENCRYPTION_KEY is required (base64 of 32 bytes)');
  const entries = raw.includes(':') ? raw.split(',') : [`${activeKeyId}:${raw}`];
  let indexKeyId: string | undefined;
  for (const entry of entries) {
    const idx = entry.indexOf(':');
    const id = entry.slice(0, idx).trim();
    const key = Buffer.from(entry.slice(idx + 1).trim(), 'base64');
    if (id.length === 0 || key.length !== 32) throw new Error('ENCRYPTION_KEY: each key must be 32 bytes');
    keys.set(id, key);
    indexKeyId ??= id;
  }
  if (!keys.has(activeKeyId)) throw new Error('ENCRYPTION_KEY_ID does not name a key in ENCRYPTION_KEY');
  return { keys, activeKeyId, indexKeyId: indexKeyId ?? activeKeyId };
}

function keyStoreConfig(env: ControlApiEnv): KeyStoreConfig {
  if (env.KEY_STORE === 'file') return { kind: 'file', dir: env.KEY_STORE_DIR };
  if (!env.VAULT_ADDR || !env.VAULT_TOKEN)
    throw new Error('KEY_STORE=vault needs VAULT_ADDR and VAULT_TOKEN');
  return {
    kind: 'vault',
    addr: env.VAULT_ADDR,
    token: env.VAULT_TOKEN,
    namespace: env.VAULT_NAMESPACE,
    mount: env.VAULT_TRANSIT_MOUNT,
    keyPrefix: env.VAULT_KEY_PREFIX,
    timeoutSeconds: env.VAULT_TIMEOUT_SECONDS,
  };
}

/** The audit chain key: AUDIT_HMAC_KEY, or one derived from the index master key (stable across rotation). */
function auditKey(env: ControlApiEnv, keyring: ControlApiConfig['keyring']): Buffer {
  if (env.AUDIT_HMAC_KEY) return Buffer.from(env.AUDIT_HMAC_KEY, 'base64');
  const indexKey = keyring.keys.get(keyring.indexKeyId);
  if (!indexKey) throw new Error('ENCRYPTION_KEY: the index key is missing');
  return Buffer.from(hkdfSync('sha256', indexKey, Buffer.alloc(0), 'riva-audit-chain-v1', 32));
}

/** Turns the validated env into the config object the app is built from. */
export function toControlApiConfig(env: ControlApiEnv): ControlApiConfig {
  const oidcParts = [env.OIDC_ISSUER, env.OIDC_AUDIENCE, env.OIDC_JWKS_URL];
  if (oidcParts.some((p) => p !== undefined) && oidcParts.some((p) => p === undefined)) {
    throw new Error('OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL must be set together');
  }
  const keyring = parseKeyring(env.ENCRYPTION_KEY, env.ENCRYPTION_KEY_ID);
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    staticTokens: env.CONTROL_API_TOKENS,
    oidc:
      env.OIDC_ISSUER && env.OIDC_AUDIENCE && env.OIDC_JWKS_URL
        ? {
            issuer: env.OIDC_ISSUER,
            audience: env.OIDC_AUDIENCE,
            jwksUrl: env.OIDC_JWKS_URL,
            roleClaim: env.OIDC_ROLE_CLAIM,
          }
        : undefined,
    livekit: {
      url: env.LIVEKIT_URL,
      apiKey: env.LIVEKIT_API_KEY,
      apiSecret: env.LIVEKIT_API_SECRET,
      timeoutSeconds: env.LIVEKIT_TIMEOUT_SECONDS,
    },
    keyring,
    keyStore: keyStoreConfig(env),
    audit: {
      hmacKey: auditKey(env, keyring),
      headFile: env.AUDIT_HEAD_FILE ?? join(env.KEY_STORE_DIR, 'audit-head.json'),
    },
    retentionDays: env.RETENTION_DAYS,
    retentionIntervalMinutes: env.RETENTION_INTERVAL_MINUTES,
    reconcileIntervalSeconds: env.RECONCILE_INTERVAL_SECONDS,
    allowedRegions: env.ALLOWED_REGIONS,
    agentName: env.AGENT_NAME,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    logLevel: env.LOG_LEVEL,
  };
}

export function loadControlApiConfig(env: Env): ControlApiConfig {
  return toControlApiConfig(loadConfig(controlApiEnvSchema, env));
}
