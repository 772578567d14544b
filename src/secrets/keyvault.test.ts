import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { startFakeKeyVault, type FakeKeyVault, type FakeKeyVaultOptions } from '../../test/fakes/keyvault';
import { KeyVaultSecretStore, secretNameOf } from './keyvault';
import type { PortalSecret } from '../domain/secrets';

/** Contract tests of the Key Vault adapter against the fake vault, through the real SDK and sign-in. */

function credentialFor(vault: FakeKeyVault, clientSecret = vault.clientSecret): ClientSecretCredential {
  return new ClientSecretCredential(vault.tenantId, vault.clientId, clientSecret, {
    authorityHost: vault.authorityHost,
    disableInstanceDiscovery: true,
  });
}

function storeFor(vault: FakeKeyVault, extra: { onPurgeSkipped?: (id: string) => void } = {}): KeyVaultSecretStore {
  return new KeyVaultSecretStore({
    vaultUrl: vault.url,
    credential: credentialFor(vault),
    // The fake lives on 127.0.0.1, not under vault.azure.net; production never sets this.
    disableChallengeResourceVerification: true,
    pollIntervalMs: 10,
    ...extra,
  });
}

const clientSecret: PortalSecret = { kind: 'clientSecret', clientSecret: 'kv-contract-client-secret-1' };
const password: PortalSecret = {
  kind: 'password',
  username: 'admin@contoso.example',
  password: 'kv-contract-password-1',
};

describe('KeyVaultSecretStore', () => {
  let vault: FakeKeyVault;
  const vaults: FakeKeyVault[] = [];
  async function another(options: FakeKeyVaultOptions): Promise<FakeKeyVault> {
    const v = await startFakeKeyVault(options);
    vaults.push(v);
    return v;
  }

  beforeAll(async () => {
    vault = await another({});
  });
  afterAll(async () => {
    await Promise.all(vaults.map((v) => v.stop()));
  });

  it('answers the 401 challenge with a token from the tenant and retries with the bearer', async () => {
    const store = storeFor(vault);
    await store.set('p-challenge', clientSecret);
    const first = vault.requests.filter((r) => r.path.startsWith('/secrets/'));
    expect(first[0]).toMatchObject({ method: 'PUT', status: 401, authorized: false });
    expect(first[1]).toMatchObject({ method: 'PUT', status: 200 });
    expect(vault.tokensIssued).toBeGreaterThanOrEqual(1);
    // The retried PUT carried the body that the challenge round held back.
    expect(await store.get('p-challenge')).toEqual(clientSecret);
  });

  it('refuses a challenge for another resource unless verification is disabled (tests only)', async () => {
    const strict = new KeyVaultSecretStore({
      vaultUrl: vault.url,
      credential: credentialFor(vault),
      pollIntervalMs: 10,
    });
    await expect(strict.get('p-strict')).rejects.toThrow(/Key Vault/);
  });

  it('names one secret per portal from its id, tagged, with a new version on every change', async () => {
    const store = storeFor(vault);
    await store.set('p-versions', clientSecret);
    await store.set('p-versions', password);
    const name = secretNameOf('p-versions');
    expect(name).toBe('portal-p-versions');
    const versions = vault.versionsOf(name);
    expect(versions).toHaveLength(2);
    expect(versions[1]?.tags).toEqual({ app: 'm365-license-sync', portalId: 'p-versions', kind: 'password' });
    expect(await store.get('p-versions')).toEqual(password);
  });

  it('reads the latest version and, through the SDK, an older one by version', async () => {
    const store = storeFor(vault);
    await store.set('p-byversion', clientSecret);
    await store.set('p-byversion', { kind: 'clientSecret', clientSecret: 'kv-contract-client-secret-2' });
    const name = secretNameOf('p-byversion');
    const [older] = vault.versionsOf(name);
    const sdk = new SecretClient(vault.url, credentialFor(vault), { disableChallengeResourceVerification: true });
    const read = await sdk.getSecret(name, { version: older!.version });
    expect(JSON.parse(read.value!)).toEqual(clientSecret);
    expect(await store.get('p-byversion')).toEqual({
      kind: 'clientSecret',
      clientSecret: 'kv-contract-client-secret-2',
    });
  });

  it('returns undefined for a portal without a secret (404 SecretNotFound)', async () => {
    expect(await storeFor(vault).get('p-none')).toBeUndefined();
    expect(vault.requests.some((r) => r.path === `/secrets/${secretNameOf('p-none')}/` && r.status === 404)).toBe(true);
  });

  it('deletes and purges a secret, and deleting a missing one is fine', async () => {
    const store = storeFor(vault);
    await store.set('p-delete', clientSecret);
    await store.delete('p-delete');
    const name = secretNameOf('p-delete');
    expect(vault.secretNames()).not.toContain(name);
    expect(vault.isDeleted(name)).toBe(false);
    expect(
      vault.requests.some((r) => r.method === 'DELETE' && r.path === `/deletedsecrets/${name}` && r.status === 204),
    ).toBe(true);
    expect(await store.get('p-delete')).toBeUndefined();
    await expect(store.delete('p-delete')).resolves.toBeUndefined();
    await expect(store.delete('p-never')).resolves.toBeUndefined();
  });

  it('leaves a deleted secret to the vault when purge protection forbids the purge', async () => {
    const protectedVault = await another({ purgeProtection: true });
    const skipped: string[] = [];
    const store = storeFor(protectedVault, { onPurgeSkipped: (id) => skipped.push(id) });
    await store.set('p-protected', clientSecret);
    await store.delete('p-protected');
    expect(protectedVault.isDeleted(secretNameOf('p-protected'))).toBe(true);
    expect(skipped).toEqual(['p-protected']);
    expect(await store.get('p-protected')).toBeUndefined();
  });

  it('recovers a soft-deleted secret of the same name (409 ObjectIsDeletedButRecoverable) and writes the new version', async () => {
    const protectedVault = await another({ purgeProtection: true, recoverLatencyMs: 30 });
    const store = storeFor(protectedVault);
    await store.set('p-reuse', clientSecret);
    await store.delete('p-reuse');
    await store.set('p-reuse', password);
    const name = secretNameOf('p-reuse');
    expect(protectedVault.requests.some((r) => r.method === 'PUT' && r.status === 409)).toBe(true);
    expect(
      protectedVault.requests.some((r) => r.method === 'POST' && r.path === `/deletedsecrets/${name}/recover`),
    ).toBe(true);
    expect(protectedVault.isDeleted(name)).toBe(false);
    expect(protectedVault.versionsOf(name)).toHaveLength(2);
    expect(await store.get('p-reuse')).toEqual(password);
  });

  it('hashes ids outside Key Vault’s name alphabet into a valid name', () => {
    expect(secretNameOf('a_b')).toMatch(/^portal-h-[0-9a-f]{64}$/);
    expect(secretNameOf('a_b')).not.toBe(secretNameOf('a-b'));
  });

  it('fails with a code and status, never the value, when the app cannot sign in', async () => {
    const wrong = new KeyVaultSecretStore({
      vaultUrl: vault.url,
      credential: credentialFor(vault, 'not-the-right-secret'),
      disableChallengeResourceVerification: true,
    });
    const error = await wrong
      .set('p-denied', { kind: 'clientSecret', clientSecret: 'kv-value-that-must-not-leak' })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    if (!error) throw new Error('expected a failure');
    expect(JSON.stringify({ ...error, text: error.message })).not.toContain('kv-value-that-must-not-leak');
    expect(error.message).toMatch(/Key Vault/);
    expect(error.cause).toBeUndefined();
  });
});
