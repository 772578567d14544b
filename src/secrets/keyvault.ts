import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { AppError } from '../domain/errors';
import {
  channelSecretSchema,
  portalSecretSchema,
  type ChannelSecret,
  type PortalSecret,
  type SecretStore,
} from '../domain/secrets';

export interface KeyVaultSecretStoreOptions {
  vaultUrl: string;
  /** The app's managed identity in Azure (see createSecretStore); tests pass one that signs in at a fake. */
  credential: TokenCredential;
  /**
   * Only for the fake vault of the tests, which cannot live under vault.azure.net. Never set in production:
   * the check stops a forged challenge from collecting a token for another resource.
   */
  disableChallengeResourceVerification?: boolean;
  /** How often to poll a deletion or recovery in progress. */
  pollIntervalMs?: number;
  /** Told when a deleted secret could not be purged (purge protection, or no purge permission). */
  onPurgeSkipped?: (portalId: string, status: number | undefined) => void;
}

const APP_TAG = 'm365-license-sync';
const CONTENT_TYPE = 'application/vnd.m365-license-sync.portal-secret+json';
const CHANNEL_CONTENT_TYPE = 'application/vnd.m365-license-sync.channel-secret+json';
/** A set blocked by a deletion or recovery in progress is tried again this often. */
const MAX_SET_ATTEMPTS = 5;
const SECRET_NAME_CHARS = /^[0-9A-Za-z-]{1,100}$/;

/**
 * One secret per portal access: `portal-<portalId>` (ids outside Key Vault's name alphabet get a hash), the
 * value the JSON of the PortalSecret, tagged with the app and the portal id. A change of credentials writes a
 * new version; a delete removes the secret and purges it where the vault allows.
 */
export function secretNameOf(portalId: string): string {
  if (SECRET_NAME_CHARS.test(portalId)) return `portal-${portalId}`;
  return `portal-h-${createHash('sha256').update(portalId).digest('hex')}`;
}

/** A notification channel's secret: `channel-<channelId>` (hashed like a portal's when needed). */
export function channelSecretNameOf(channelId: string): string {
  if (SECRET_NAME_CHARS.test(channelId)) return `channel-${channelId}`;
  return `channel-h-${createHash('sha256').update(channelId).digest('hex')}`;
}

interface RestErrorLike {
  statusCode?: number;
  code?: string;
}

function restError(error: unknown): RestErrorLike {
  return typeof error === 'object' && error !== null ? error : {};
}

/**
 * Errors from the SDK carry the request (a set request carries the secret in its body), so they never leave
 * this module: callers get an AppError with the operation, the status and Key Vault's error code only.
 */
function vaultError(operation: string, error: unknown): AppError {
  const { statusCode, code } = restError(error);
  const name = (error as { name?: string } | undefined)?.name;
  const detail = statusCode
    ? `Key Vault answered ${statusCode}${code ? ` ${code}` : ''} to ${operation}`
    : `Key Vault could not be reached or the app could not sign in to it (${name ?? 'error'}) during ${operation}`;
  const transient = statusCode === undefined || statusCode === 429 || statusCode >= 500;
  return new AppError('internal_error', { transient, detail });
}

export class KeyVaultSecretStore implements SecretStore {
  private readonly client: SecretClient;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: KeyVaultSecretStoreOptions) {
    const clientOptions: SecretClientOptions = {
      disableChallengeResourceVerification: options.disableChallengeResourceVerification === true,
      retryOptions: { maxRetries: 3 },
    };
    this.client = new SecretClient(options.vaultUrl, options.credential, clientOptions);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  async set(portalId: string, secret: PortalSecret): Promise<void> {
    const value = JSON.stringify(portalSecretSchema.parse(secret));
    await this.setNamed(secretNameOf(portalId), value, CONTENT_TYPE, { app: APP_TAG, portalId, kind: secret.kind });
  }

  async setChannel(channelId: string, secret: ChannelSecret): Promise<void> {
    const value = JSON.stringify(channelSecretSchema.parse(secret));
    await this.setNamed(channelSecretNameOf(channelId), value, CHANNEL_CONTENT_TYPE, { app: APP_TAG, channelId });
  }

  async getChannel(channelId: string): Promise<ChannelSecret | undefined> {
    const value = await this.getNamed(channelSecretNameOf(channelId));
    if (value === undefined) return undefined;
    const parsed = channelSecretSchema.safeParse(parseJson(value));
    if (!parsed.success)
      throw new AppError('internal_error', { detail: "a notification channel's stored secret is not readable" });
    return parsed.data;
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.deleteNamed(channelSecretNameOf(channelId), channelId);
  }

  private async setNamed(name: string, value: string, contentType: string, tags: Record<string, string>) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.setSecret(name, value, { contentType, tags });
        return;
      } catch (error) {
        // 409: the name is blocked by a soft-deleted secret (ObjectIsDeletedButRecoverable), or one being
        // deleted or recovered. The inner code is not exposed by the SDK, so ask the vault which it is.
        if (restError(error).statusCode !== 409 || attempt >= MAX_SET_ATTEMPTS)
          throw vaultError('set the secret', error);
      }
      if (await this.isSoftDeleted(name)) {
        // Recover it (its old versions come back) and write the new version on top: works with purge protection.
        try {
          await (
            await this.client.beginRecoverDeletedSecret(name, { intervalInMs: this.pollIntervalMs })
          ).pollUntilDone();
        } catch (error) {
          if (restError(error).statusCode !== 409) throw vaultError('recover the deleted secret', error);
        }
      } else {
        await delay(this.pollIntervalMs * attempt);
      }
    }
  }

  private async isSoftDeleted(name: string): Promise<boolean> {
    try {
      await this.client.getDeletedSecret(name);
      return true;
    } catch (error) {
      if (restError(error).statusCode === 404) return false;
      throw vaultError('read the deleted secret', error);
    }
  }

  private async getNamed(name: string): Promise<string | undefined> {
    try {
      return (await this.client.getSecret(name)).value;
    } catch (error) {
      if (restError(error).statusCode === 404) return undefined;
      throw vaultError('get the secret', error);
    }
  }

  async get(portalId: string): Promise<PortalSecret | undefined> {
    const value = await this.getNamed(secretNameOf(portalId));
    if (value === undefined) return undefined;
    const parsed = portalSecretSchema.safeParse(parseJson(value));
    // Never quote the value: it is the secret.
    if (!parsed.success)
      throw new AppError('secret_missing', {
        detail: 'the stored secret is not in the expected format; set the credentials again',
      });
    return parsed.data;
  }

  async delete(portalId: string): Promise<void> {
    await this.deleteNamed(secretNameOf(portalId), portalId);
  }

  private async deleteNamed(name: string, portalId: string): Promise<void> {
    try {
      await (await this.client.beginDeleteSecret(name, { intervalInMs: this.pollIntervalMs })).pollUntilDone();
    } catch (error) {
      if (restError(error).statusCode !== 404) throw vaultError('delete the secret', error);
      // Not there: maybe deleted before and not yet purged; try the purge below anyway.
    }
    try {
      await this.client.purgeDeletedSecret(name);
    } catch (error) {
      const status = restError(error).statusCode;
      // 404: nothing to purge (never existed, or already purged). 403: purge protection or no purge
      // permission; the vault purges it itself when its retention ends.
      if (status === 404) return;
      if (status === 403) {
        this.options.onPurgeSkipped?.(portalId, status);
        return;
      }
      throw vaultError('purge the deleted secret', error);
    }
  }
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
