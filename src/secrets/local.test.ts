import { mkdtemp, readFile, readdir, stat, chmod, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SettingsError } from '../config/settings';
import { testSettings } from '../../test/support/env';
import { createSecretStore } from './index';
import { LocalSecretStore } from './local';
import { KeyVaultSecretStore } from './keyvault';

describe('LocalSecretStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'license-sync-secrets-'));
  });

  it('keeps secrets in <dataDir>/secrets.json readable by its owner only', async () => {
    const store = new LocalSecretStore(dir);
    await store.set('p1', { kind: 'clientSecret', clientSecret: 'local-secret-1' });
    const info = await stat(path.join(dir, 'secrets.json'));
    if (process.platform !== 'win32') expect(info.mode & 0o777).toBe(0o600);
    expect(await store.get('p1')).toEqual({ kind: 'clientSecret', clientSecret: 'local-secret-1' });
    // A new store over the same folder (a restart) reads the same secrets.
    expect(await new LocalSecretStore(dir).get('p1')).toEqual({ kind: 'clientSecret', clientSecret: 'local-secret-1' });
  });

  it('replaces a secret, deletes it, and a missing one is fine', async () => {
    const store = new LocalSecretStore(dir);
    await store.set('p1', { kind: 'clientSecret', clientSecret: 'old' });
    await store.set('p1', { kind: 'password', username: 'u@contoso.example', password: 'new' });
    await store.set('p2', { kind: 'certificate', certificate: 'PEM' });
    expect(await store.get('p1')).toEqual({ kind: 'password', username: 'u@contoso.example', password: 'new' });
    await store.delete('p1');
    await store.delete('p-never');
    expect(await store.get('p1')).toBeUndefined();
    expect(await store.get('p2')).toEqual({ kind: 'certificate', certificate: 'PEM' });
    expect(await store.get('toString')).toBeUndefined();
  });

  it('writes atomically: concurrent changes all land and no temporary file stays behind', async () => {
    const a = new LocalSecretStore(dir);
    const b = new LocalSecretStore(dir);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).set(`p${i}`, { kind: 'clientSecret', clientSecret: `s${i}` }),
      ),
    );
    for (let i = 0; i < 20; i += 1)
      expect(await a.get(`p${i}`)).toEqual({ kind: 'clientSecret', clientSecret: `s${i}` });
    expect((await readdir(dir)).sort()).toEqual(['secrets.json']);
    expect(JSON.parse(await readFile(path.join(dir, 'secrets.json'), 'utf8')).version).toBe(1);
  });

  it('tightens a file that was made readable by others', async () => {
    if (process.platform === 'win32') return;
    const store = new LocalSecretStore(dir);
    await store.set('p1', { kind: 'clientSecret', clientSecret: 'x' });
    await chmod(path.join(dir, 'secrets.json'), 0o644);
    await store.get('p1');
    expect((await stat(path.join(dir, 'secrets.json'))).mode & 0o777).toBe(0o600);
  });

  it('reports a damaged file without quoting its content', async () => {
    await writeFile(path.join(dir, 'secrets.json'), '{"version":1,"portals":{"p1":{"secret":"damaged-secret-value"', {
      mode: 0o600,
    });
    const error = await new LocalSecretStore(dir).get('p1').then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(/local secret store/);
    expect(error.message).not.toContain('damaged-secret-value');
  });
});

describe('createSecretStore', () => {
  const inAzure = { WEBSITE_INSTANCE_ID: 'a1b2c3' };

  it('uses the local store on a local run without a vault, and says so in the log', () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    expect(createSecretStore(testSettings(), logger, {})).toBeInstanceOf(LocalSecretStore);
    expect(warnings).toEqual([expect.stringContaining('LICENSE_SYNC_KEY_VAULT_URL is not set')]);
  });

  it('uses Key Vault when the vault URL is set, in Azure or not', () => {
    const settings = testSettings({ keyVaultUrl: 'https://example.vault.azure.net' });
    expect(createSecretStore(settings, undefined, {})).toBeInstanceOf(KeyVaultSecretStore);
    expect(createSecretStore(settings, undefined, inAzure)).toBeInstanceOf(KeyVaultSecretStore);
  });

  it('refuses to start in Azure (WEBSITE_INSTANCE_ID set) without a vault URL instead of keeping secrets on disk', () => {
    expect(() => createSecretStore(testSettings(), undefined, inAzure)).toThrow(SettingsError);
    expect(() => createSecretStore(testSettings(), undefined, inAzure)).toThrow(/LICENSE_SYNC_KEY_VAULT_URL/);
  });
});
