import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SettingsError } from '../config/settings';
import { LocalSecretStore } from '../secrets';
import { testSettings } from '../../test/support/env';
import { createServices } from './compose';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('createServices', () => {
  const saved = process.env.WEBSITE_INSTANCE_ID;
  afterEach(() => {
    if (saved === undefined) delete process.env.WEBSITE_INSTANCE_ID;
    else process.env.WEBSITE_INSTANCE_ID = saved;
  });

  it('refuses to start in Azure without LICENSE_SYNC_KEY_VAULT_URL', async () => {
    process.env.WEBSITE_INSTANCE_ID = 'a1b2c3';
    await expect(createServices(testSettings(), quiet)).rejects.toThrow(SettingsError);
  });

  it('serves with the secret store the local host injects', async () => {
    process.env.WEBSITE_INSTANCE_ID = 'a1b2c3';
    const secrets = new LocalSecretStore(await mkdtemp(path.join(os.tmpdir(), 'license-sync-compose-')));
    const services = await createServices(testSettings(), quiet, { secrets });
    expect(services.secrets).toBe(secrets);
  });
});
