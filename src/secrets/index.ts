import { DefaultAzureCredential } from '@azure/identity';
import { SettingsError, type Settings } from '../config/settings';
import type { Logger } from '../domain/ports';
import type { SecretStore } from '../domain/secrets';
import { KeyVaultSecretStore } from './keyvault';
import { LocalSecretStore } from './local';

export { KeyVaultSecretStore, secretNameOf } from './keyvault';
export { LocalSecretStore } from './local';
export type { PortalSecret, SecretStore } from '../domain/secrets';

/** The App Service platform sets this on every instance: the app runs in Azure, not on a machine of the operator. */
const AZURE_INSTANCE_VARIABLE = 'WEBSITE_INSTANCE_ID';

/**
 * Key Vault at LICENSE_SYNC_KEY_VAULT_URL, signed in as the app's managed identity. Without that setting, a local
 * run (Functions Core Tools) keeps secrets in the data folder and says so; in Azure the app refuses to start:
 * each instance would keep its own secrets on its own disk, lost with the instance.
 */
export function createSecretStore(
  settings: Settings,
  logger?: Logger,
  env: NodeJS.ProcessEnv = process.env,
): SecretStore {
  if (settings.keyVaultUrl) {
    return new KeyVaultSecretStore({
      vaultUrl: settings.keyVaultUrl,
      credential: new DefaultAzureCredential(
        settings.managedIdentityClientId ? { managedIdentityClientId: settings.managedIdentityClientId } : {},
      ),
      onPurgeSkipped: (portalId, status) =>
        logger?.warn('deleted portal secret left for the vault to purge', { portalId, status }),
    });
  }
  if (env[AZURE_INSTANCE_VARIABLE]) {
    throw new SettingsError(
      'LICENSE_SYNC_KEY_VAULT_URL is not set: in Azure the app keeps portal secrets only in Key Vault. Set it to the vault URL (the infra template does).',
    );
  }
  logger?.warn('LICENSE_SYNC_KEY_VAULT_URL is not set: portal secrets are kept in the local data folder', {
    dataDir: settings.dataDir,
  });
  return new LocalSecretStore(settings.dataDir);
}
