/**
 * The Vault transit key store against a fake that speaks Vault's HTTP API: one transit key per subject, the
 * data key derived by Vault and never stored, destroy deletes the transit key; and a whole erasure through the
 * API on both engines with the key store on "Vault".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultKeyStore, VaultError } from '../src/keys/vault-key-store.ts';
import { type FakeVault, startFakeVault } from './fake-vault.ts';
import { createCall, createHarness, ENGINES, type Harness, HOOK_TIMEOUT_MS } from './helpers.ts';

const TOKEN = 'hvs.test-token-0123456789';

const storeConfig = (vault: FakeVault, token = vault.token) => ({
  addr: vault.url,
  token,
  namespace: 'eu/riva',
  mount: 'transit',
  keyPrefix: 'riva-subject-',
  timeoutSeconds: 5,
});

describe('Vault transit key store', () => {
  let vault: FakeVault;
  beforeAll(async () => {
    vault = await startFakeVault({ token: TOKEN });
  });
  afterAll(async () => {
    await vault?.close();
  });

  it('creates one transit key per subject and derives a stable data key from it', async () => {
    const store = createVaultKeyStore(storeConfig(vault));
    expect(await store.existingDataKey('ref-a')).toBeUndefined();
    const a = await store.dataKey('ref-a');
    expect(a).toHaveLength(32);
    expect((await store.dataKey('ref-a')).equals(a)).toBe(true);
    expect((await store.existingDataKey('ref-a'))?.equals(a)).toBe(true);
    const b = await store.dataKey('ref-b');
    expect(b.equals(a)).toBe(false);
    expect([...vault.keys.keys()].every((name) => /^riva-subject-[0-9a-f]{32}$/.test(name))).toBe(true);
    expect(vault.keys.size).toBe(2);
    // The subject reference itself never reaches Vault, and every request carries the namespace.
    expect(JSON.stringify(vault.requests)).not.toContain('ref-a');
    expect(vault.requests.every((r) => r.namespace === 'eu/riva')).toBe(true);
    expect(await store.rewrapAll()).toBe(0);
  });

  it('destroys for good: the transit key is deleted and a later key is a different one', async () => {
    const store = createVaultKeyStore(storeConfig(vault));
    const before = await store.dataKey('ref-gone');
    const count = vault.keys.size;
    expect(await store.destroy('ref-gone')).toBe(true);
    expect(vault.keys.size).toBe(count - 1);
    expect(await store.existingDataKey('ref-gone')).toBeUndefined();
    expect(await store.destroy('ref-gone')).toBe(false);
    const after = await store.dataKey('ref-gone');
    expect(after.equals(before)).toBe(false);
  });

  it('surfaces a refused token as a VaultError, never as a missing key', async () => {
    const store = createVaultKeyStore(storeConfig(vault, 'hvs.wrong'));
    await expect(store.existingDataKey('ref-a')).rejects.toBeInstanceOf(VaultError);
    await expect(store.destroy('ref-a')).rejects.toMatchObject({ status: 403 });
  });
});

describe.each(ENGINES)('erasure with the Vault key store on %s', (engine) => {
  let vault: FakeVault;
  let h: Harness;
  beforeAll(async () => {
    vault = await startFakeVault({ token: TOKEN });
    h = await createHarness(engine, { keyStore: { kind: 'vault', ...storeConfig(vault) } });
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await h?.close();
    await vault?.close();
  }, HOOK_TIMEOUT_MS);

  it('stores transcripts under the Vault-held key and erases by deleting it', async () => {
    const subject = 'subj-vault';
    const { callId } = await createCall(h, subject);
    const ingest = await h.request('POST', `/v1/calls/${callId}/transcripts`, {
      role: 'agent',
      body: {
        segments: [
          {
            id: `${callId}-0`,
            subjectId: subject,
            speaker: 'caller',
            text: 'held in vault',
            startMs: 0,
            endMs: 1,
          },
        ],
      },
    });
    expect(ingest.status).toBe(200);
    const call = (await (await h.request('GET', `/v1/calls/${callId}`, { role: 'admin' })).json()) as {
      transcript: Array<{ text: string }>;
    };
    expect(call.transcript.map((s) => s.text)).toEqual(['held in vault']);
    expect(vault.keys.size).toBe(1);
    const erased = await h.request('DELETE', `/v1/subjects/${subject}?reason=subject%20request`, {
      role: 'dpo',
    });
    expect(erased.status).toBe(200);
    expect(((await erased.json()) as { erased: { dataKeys: number } }).erased.dataKeys).toBe(1);
    expect(vault.keys.size).toBe(0);
    expect(
      await h.api.services.keyStore.existingDataKey(h.api.services.keyring.subjectRef(subject)),
    ).toBeUndefined();
  });
});
