import { DefaultAzureCredential } from '@azure/identity';
import type { Logger } from '../app/services';
import type { Settings } from '../config/settings';
import { KeyVaultSecretStore } from './keyvault';
import { LocalSecretStore } from './local';
import type { SecretStore } from './types';

export { KeyVaultSecretStore, secretNameOf } from './keyvault';
export { LocalSecretStore } from './local';
export type { PortalSecret, SecretStore } from './types';

/**
 * Key Vault when the operator set LICENSE_SYNC_KEY_VAULT_URL (always in Azure), signed in as the app's managed
 * identity; otherwise the local store in the data folder (local runs).
 */
export function createSecretStore(settings: Settings, logger?: Logger): SecretStore {
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
  return new LocalSecretStore(settings.dataDir);
}
