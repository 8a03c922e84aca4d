import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/src/config.ts';
import { loadControlApiConfig } from '../src/config.ts';
import { createKeyring, DecryptionError, open, seal } from '../src/lib/crypto.ts';

describe('envelope encryption', () => {
  it('round-trips and refuses tampered ciphertext or a different AAD', () => {
    const key = randomBytes(32);
    const sealed = seal(key, Buffer.from('hello caller'), 'call:seg:ref');
    expect(open(key, sealed, 'call:seg:ref').toString()).toBe('hello caller');
    expect(() => open(key, sealed, 'call:other:ref')).toThrow(DecryptionError);
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => open(key, { nonce: sealed.nonce, ciphertext: flipped }, 'call:seg:ref')).toThrow(
      DecryptionError,
    );
    expect(() => open(randomBytes(32), sealed, 'call:seg:ref')).toThrow(DecryptionError);
  });

  it('rotates master keys: old wrapped keys still open, new ones use the active key, subject refs stay', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const before = createKeyring({ keys: new Map([['k1', k1]]), activeKeyId: 'k1', indexKeyId: 'k1' });
    const dek = before.newDataKey();
    const wrapped = before.wrap(dek, 'ref-1');
    expect(wrapped.kekId).toBe('k1');
    const after = createKeyring({
      keys: new Map([
        ['k1', k1],
        ['k2', k2],
      ]),
      activeKeyId: 'k2',
      indexKeyId: 'k1',
    });
    expect(after.unwrap(wrapped, 'ref-1').equals(dek)).toBe(true);
    const rewrapped = after.wrap(dek, 'ref-1');
    expect(rewrapped.kekId).toBe('k2');
    expect(after.unwrap(rewrapped, 'ref-1').equals(dek)).toBe(true);
    // A wrapped key is bound to its subject.
    expect(() => after.unwrap(rewrapped, 'ref-2')).toThrow(DecryptionError);
    expect(after.subjectRef('subj-1')).toBe(before.subjectRef('subj-1'));
    expect(after.subjectRef('subj-1')).not.toContain('subj-1');
  });
});

describe('control API config', () => {
  const key = randomBytes(32).toString('base64');

  it('reads roles, tokens, keys and defaults from the environment', () => {
    const config = loadControlApiConfig({
      ENCRYPTION_KEY: key,
      CONTROL_API_TOKENS: 'admin:aaaaaaaaaaaaaaaa1, agent:bbbbbbbbbbbbbbbb2',
    });
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('./data');
    expect(config.retentionDays).toBe(30);
    expect(config.allowedRegions).toEqual(['eu-central']);
    expect(config.staticTokens).toEqual([
      { role: 'admin', token: 'aaaaaaaaaaaaaaaa1' },
      { role: 'agent', token: 'bbbbbbbbbbbbbbbb2' },
    ]);
    expect(config.keyring.activeKeyId).toBe('k1');
    expect(config.keyring.keys.get('k1')?.length).toBe(32);
  });

  it('accepts a keyring for rotation', () => {
    const k2 = randomBytes(32).toString('base64');
    const config = loadControlApiConfig({ ENCRYPTION_KEY: `old:${key},new:${k2}`, ENCRYPTION_KEY_ID: 'new' });
    expect(config.keyring).toMatchObject({ activeKeyId: 'new', indexKeyId: 'old' });
  });

  it('takes the audit key from AUDIT_HMAC_KEY, or derives a stable one from the index key', () => {
    const derived = loadControlApiConfig({ ENCRYPTION_KEY: key });
    expect(derived.audit.hmacKey.length).toBe(32);
    expect(derived.audit.hmacKey.equals(Buffer.from(key, 'base64'))).toBe(false);
    expect(derived.audit.headFile).toBe('data/keys/audit-head.json');
    // Rotating the active master key keeps the index key, and so the audit key.
    const k2 = randomBytes(32).toString('base64');
    const rotated = loadControlApiConfig({ ENCRYPTION_KEY: `k1:${key},k2:${k2}`, ENCRYPTION_KEY_ID: 'k2' });
    expect(rotated.audit.hmacKey.equals(derived.audit.hmacKey)).toBe(true);
    const own = randomBytes(48).toString('base64');
    const explicit = loadControlApiConfig({
      ENCRYPTION_KEY: key,
      AUDIT_HMAC_KEY: own,
      AUDIT_HEAD_FILE: '/var/lib/riva/audit-head.json',
    });
    expect(explicit.audit.hmacKey.equals(Buffer.from(own, 'base64'))).toBe(true);
    expect(explicit.audit.headFile).toBe('/var/lib/riva/audit-head.json');
    expect(() => loadControlApiConfig({ ENCRYPTION_KEY: key, AUDIT_HMAC_KEY: 'c2hvcnQ=' })).toThrow(
      /AUDIT_HMAC_KEY/,
    );
  });

  it('names the bad variable', () => {
    expect(() => loadControlApiConfig({ ENCRYPTION_KEY: key, CONTROL_API_TOKENS: 'root:short' })).toThrow(
      ConfigError,
    );
    expect(() => loadControlApiConfig({ ENCRYPTION_KEY: key, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadControlApiConfig({})).toThrow(/ENCRYPTION_KEY/);
    expect(() => loadControlApiConfig({ ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(/32 bytes/);
    expect(() => loadControlApiConfig({ ENCRYPTION_KEY: key, OIDC_ISSUER: 'https://idp' })).toThrow(
      /together/,
    );
  });
});
