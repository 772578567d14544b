import { generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SignInErrorCode } from './faults';
import { headerOf, sendJson } from './http';
import { base64url } from './ids';
import type { FederationState } from './federationState';

/**
 * The simulated side of secretless tenants: the App Service managed-identity endpoint (IDENTITY_ENDPOINT and
 * IDENTITY_HEADER, the protocol @azure/identity uses on Functions) issuing signed tokens for the exchange
 * audience, and multi-tenant apps whose federated credentials decide which such token is a valid client assertion.
 */

export type {
  FederationState,
  SimConsentAnswer,
  SimFederatedCredential,
  SimManagedIdentity,
  SimMultiTenantApp,
  SimMultiTenantAppInput,
} from './federationState';

export const IDENTITY_PATH = '/msi/token';
const IDENTITY_TOKEN_SECONDS = 24 * 3600;

export function newFederationState(): FederationState {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    identityHeader: randomBytes(24).toString('base64url'),
    identities: new Map(),
    apps: new Map(),
    consentAnswers: [],
    signingKey: { privateKey, publicKey, kid: `sim-mi-${randomUUID().slice(0, 8)}` },
  };
}

export function identityIssuer(baseUrl: string, tenantId: string): string {
  return `${baseUrl}/${tenantId}/v2.0`;
}

/** App Service's error body: `{ statusCode, message, correlationId }`. */
function identityError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { statusCode: status, message, correlationId: randomUUID() });
}

/** GET IDENTITY_ENDPOINT?resource=&api-version=2019-08-01&client_id= with X-IDENTITY-HEADER. */
export function handleIdentityEndpoint(
  federation: FederationState,
  baseUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  if (req.method !== 'GET') return identityError(res, 405, 'Only GET is supported.');
  if (headerOf(req, 'x-identity-header') !== federation.identityHeader) {
    return identityError(res, 401, 'The X-IDENTITY-HEADER header is missing or wrong.');
  }
  if (url.searchParams.get('api-version') !== '2019-08-01') {
    return identityError(res, 400, 'Unsupported api-version; use 2019-08-01.');
  }
  const resource = url.searchParams.get('resource');
  if (!resource) return identityError(res, 400, 'The resource parameter is required.');
  const clientId = url.searchParams.get('client_id');
  const identity = clientId ? federation.identities.get(clientId.toLowerCase()) : undefined;
  if (!identity) {
    // Only user-assigned identities are simulated: a request without client_id finds none either.
    return identityError(
      res,
      400,
      'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.',
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const expiresOn = now + IDENTITY_TOKEN_SECONDS;
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: federation.signingKey.kid }));
  const payload = base64url(
    JSON.stringify({
      aud: resource,
      iss: identityIssuer(baseUrl, identity.tenantId),
      iat: now,
      nbf: now,
      exp: expiresOn,
      sub: identity.objectId,
      oid: identity.objectId,
      tid: identity.tenantId,
      appid: identity.clientId,
      idtyp: 'app',
      uti: randomUUID(),
    }),
  );
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), federation.signingKey.privateKey);
  sendJson(res, 200, {
    access_token: `${header}.${payload}.${signature.toString('base64url')}`,
    expires_on: String(expiresOn),
    resource,
    token_type: 'Bearer',
    client_id: identity.clientId,
  });
}

/** Whether a client assertion was issued by the simulated managed identity (else it is a certificate's). */
export function isIdentityAssertion(federation: FederationState, assertion: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(assertion.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return header.kid === federation.signingKey.kid;
  } catch {
    return false;
  }
}

export interface FederatedCheck {
  code: SignInErrorCode;
  vars: Record<string, string>;
}

/**
 * Checks a managed identity token presented as client assertion against the app's federated credentials, as
 * Entra does: the signature and lifetime, then a credential in effect with the token's issuer, then its subject
 * (case-sensitive), then its audience.
 */
export function checkFederatedAssertion(
  federation: FederationState,
  clientId: string,
  assertion: string,
): FederatedCheck | undefined {
  const [header, payloadPart, signature] = assertion.split('.');
  const valid =
    header !== undefined &&
    payloadPart !== undefined &&
    signature !== undefined &&
    verify(
      'sha256',
      Buffer.from(`${header}.${payloadPart}`),
      federation.signingKey.publicKey,
      Buffer.from(signature, 'base64url'),
    );
  if (!valid) return { code: 50027, vars: {} };
  const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  const issuer = text(claims.iss);
  const subject = text(claims.sub);
  const audience = text(claims.aud);
  const vars = { issuer, subject, audience };
  if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000) return { code: 700024, vars };
  const now = Date.now();
  const inEffect = (federation.apps.get(clientId.toLowerCase())?.federatedCredentials ?? []).filter(
    (credential) => (credential.activeAt ?? 0) <= now,
  );
  const byIssuer = inEffect.filter((credential) => credential.issuer === issuer);
  if (byIssuer.length === 0) return { code: 70021, vars };
  const bySubject = byIssuer.filter((credential) => credential.subject === subject);
  if (bySubject.length === 0) return { code: 700213, vars };
  if (!bySubject.some((credential) => credential.audiences.includes(audience))) return { code: 700212, vars };
  return undefined;
}
