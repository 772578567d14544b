import {
  ClientAssertionCredential,
  ManagedIdentityCredential,
  type AccessToken,
  type GetTokenOptions,
  type TokenCredential,
} from '@azure/identity';
import type { FederationSettings } from '../config/federation';
import { AppError, isAppError } from '../domain/errors';
import type { Cloud } from '../domain/records';
import { aadstsOf, sanitizeDetail } from './errors';

/**
 * The `federated` credential kind: the operator's multi-tenant app signs in to a customer tenant with a client
 * assertion that is the function app's user-assigned managed identity token for the cloud's token-exchange
 * audience (Microsoft Learn: "Configure an application to trust a managed identity"). No secret exists.
 */

/** The audience a managed identity token must carry to be exchanged, by cloud (US Gov and DoD share one). */
export const EXCHANGE_AUDIENCES: Readonly<Record<Cloud, string>> = {
  global: 'api://AzureADTokenExchange',
  usgov: 'api://AzureADTokenExchangeUSGov',
  usgovdod: 'api://AzureADTokenExchangeUSGov',
  china: 'api://AzureADTokenExchangeChina',
  simulated: 'api://AzureADTokenExchange',
};

/** The AADSTS codes of an assertion no federated credential of the app matches (also while one propagates). */
const NO_MATCH_CODES = new Set(['70021', '700211', '700212', '70025']);
const SUBJECT_CODE = '700213';
const NOT_CONSENTED_CODES = new Set(['700016', '65001']);
/** A managed identity token is reused until this long before it expires. */
const REFRESH_BEFORE_MS = 5 * 60_000;

export interface FederatedSignInOptions {
  federation: FederationSettings;
  cloud: Cloud;
}

interface IdentityToken {
  token: string;
  expiresAt: number;
  objectId?: string;
  issuer?: string;
}

/** Managed identity tokens of this process, per identity and audience: one serves every federated portal. */
const identityTokens = new Map<string, Promise<IdentityToken>>();
const identityCredentials = new Map<string, ManagedIdentityCredential>();

function claimsOf(token: string): { oid?: string; iss?: string } {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    return {
      oid: typeof payload.oid === 'string' ? payload.oid : undefined,
      iss: typeof payload.iss === 'string' ? payload.iss : undefined,
    };
  } catch {
    return {};
  }
}

async function fetchIdentityToken(identityClientId: string, audience: string): Promise<IdentityToken> {
  let credential = identityCredentials.get(identityClientId);
  if (!credential) {
    credential = new ManagedIdentityCredential({ clientId: identityClientId, retryOptions: { maxRetries: 2 } });
    identityCredentials.set(identityClientId, credential);
  }
  let token: AccessToken;
  try {
    token = await credential.getToken(`${audience}/.default`);
  } catch (error) {
    const message = (error as { message?: unknown })?.message;
    throw new AppError('managed_identity_unavailable', {
      detail: sanitizeDetail(typeof message === 'string' ? message.split('\n')[0]! : 'no token'),
    });
  }
  const claims = claimsOf(token.token);
  return { token: token.token, expiresAt: token.expiresOnTimestamp, objectId: claims.oid, issuer: claims.iss };
}

/** The managed identity token for `audience`, from the cache until shortly before it expires. */
export async function identityToken(
  identityClientId: string,
  audience: string,
  now = Date.now(),
): Promise<IdentityToken> {
  const key = `${identityClientId.toLowerCase()} ${audience}`;
  const cached = identityTokens.get(key);
  if (cached) {
    const value = await cached.catch(() => undefined);
    if (value && value.expiresAt - REFRESH_BEFORE_MS > now) return value;
    if (identityTokens.get(key) !== cached) return identityToken(identityClientId, audience, now);
  }
  const pending = fetchIdentityToken(identityClientId, audience);
  identityTokens.set(key, pending);
  pending.catch(() => {
    if (identityTokens.get(key) === pending) identityTokens.delete(key);
  });
  return pending;
}

/** Forgets the cached managed identity tokens (tests). */
export function forgetIdentityTokens(): void {
  identityTokens.clear();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A TokenCredential for one federated portal. Sign-in failures a person must fix are AppErrors with the values
 * to put in: the managed identity's object id (the setting, else the token's oid claim) and the token's issuer.
 */
export function createFederatedCredential(
  tenantId: string,
  clientId: string,
  common: ConstructorParameters<typeof ClientAssertionCredential>[3],
  options: FederatedSignInOptions,
): TokenCredential {
  const { federation } = options;
  const audience = EXCHANGE_AUDIENCES[options.cloud];
  const identityClientId = federation.identityClientId;
  let lastIdentity: IdentityToken | undefined;
  // MSAL may rewrap what the assertion callback throws: its own failure is kept here to be thrown as is.
  let identityFailure: AppError | undefined;
  const failed = (): AppError | undefined => identityFailure;
  const assertion = new ClientAssertionCredential(
    tenantId,
    clientId,
    async () => {
      try {
        lastIdentity = await identityToken(identityClientId!, audience);
      } catch (error) {
        identityFailure = isAppError(error) ? error : new AppError('managed_identity_unavailable');
        throw identityFailure;
      }
      return lastIdentity.token;
    },
    common,
  );
  const retries = federation.propagationRetries;
  const delayMs = federation.propagationDelayMs;

  const fix = (): string => {
    const subject = federation.identityObjectId ?? lastIdentity?.objectId;
    return [
      `app ${clientId}`,
      lastIdentity?.issuer ? `issuer ${lastIdentity.issuer}` : undefined,
      subject ? `subject ${subject} (object id of managed identity ${identityClientId})` : undefined,
      `audience ${audience}`,
    ]
      .filter(Boolean)
      .join(', ');
  };

  return {
    async getToken(scopes: string | string[], getOptions?: GetTokenOptions): Promise<AccessToken> {
      if (!identityClientId) {
        throw new AppError('managed_identity_unavailable', {
          detail: 'LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID is not set',
        });
      }
      if (!federation.identityEndpointAvailable) {
        throw new AppError('managed_identity_unavailable', {
          detail: 'no managed identity endpoint (IDENTITY_ENDPOINT) in this process',
        });
      }
      for (let attempt = 0; ; attempt += 1) {
        identityFailure = undefined;
        try {
          return await assertion.getToken(scopes, getOptions);
        } catch (error) {
          const fromIdentity = failed();
          if (fromIdentity) throw fromIdentity;
          const code = aadstsOf(error)?.code;
          if (code && NOT_CONSENTED_CODES.has(code))
            throw new AppError('app_not_consented', { detail: `tenant ${tenantId}` });
          const noMatch = code !== undefined && NO_MATCH_CODES.has(code);
          if (!noMatch && code !== SUBJECT_CODE) throw error;
          // A federated credential takes a while to be in effect after it is created or changed: ask again.
          if (attempt < retries) {
            await sleep(delayMs * (attempt + 1));
            continue;
          }
          throw new AppError(noMatch ? 'federated_credential_missing' : 'federated_subject_mismatch', {
            detail: `AADSTS${code}; expected: ${fix()}`,
          });
        }
      }
    },
  };
}
