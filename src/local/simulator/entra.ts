import { X509Certificate, constants, createHash, randomBytes, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIGN_IN_ERRORS, type SignInErrorCode, type SimFault } from './faults';
import {
  findTenant,
  headerOf,
  readBody,
  sendGraphFault,
  sendJson,
  sendTruncated,
  type IssuedToken,
  type SimState,
} from './http';
import { base64url } from './ids';
import { checkFederatedAssertion, isIdentityAssertion } from './managedIdentity';
import type { SimTenant } from './tenant';

/**
 * The simulated Entra ID endpoints that MSAL (through @azure/identity) calls: the tenant's OpenID configuration,
 * the v2.0 token endpoint (client credentials with a secret or a certificate assertion, and the legacy password
 * grant), and the user-realm lookup. Errors have Entra's wire shape so MSAL raises its real errors.
 */

const TOKEN_LIFETIME_SECONDS = 3599;

export function entraResource(segments: string[]): 'openid' | 'token' | 'userrealm' | 'keys' | undefined {
  const rest = segments.slice(1).join('/');
  if (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration') return 'openid';
  if (rest === 'oauth2/v2.0/token') return 'token';
  if (rest === 'discovery/v2.0/keys') return 'keys';
  if (segments[0] === 'common' && segments[1] === 'userrealm' && segments.length === 3) return 'userrealm';
  return undefined;
}

export function sendSignInError(
  req: IncomingMessage,
  res: ServerResponse,
  state: SimState,
  code: SignInErrorCode,
  vars: Record<string, string> = {},
): void {
  const spec = SIGN_IN_ERRORS[code];
  const traceId = randomUUID();
  const correlationId = headerOf(req, 'client-request-id') ?? randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const text = spec.text.replace(/\{(\w+)\}/g, (whole: string, name: string) => vars[name] ?? whole);
  sendJson(res, spec.status, {
    error: spec.error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${state.baseUrl}/error?code=${code}`,
  });
}

export async function handleEntra(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  segments: string[],
  resource: 'openid' | 'token' | 'userrealm' | 'keys',
  takeFault: (tenant: SimTenant) => SimFault | undefined,
): Promise<void> {
  if (resource === 'userrealm') return userRealm(state, res, decodeURIComponent(segments[2]!));
  const tenantSegment = segments[0]!;
  const tenant = findTenant(state, tenantSegment);
  if (!tenant) {
    await readBody(req);
    if (resource === 'token') return sendSignInError(req, res, state, 90002, { tenant: tenantSegment });
    // The OpenID configuration of an unknown tenant is a 400 with error invalid_tenant.
    const traceId = randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return sendJson(res, 400, {
      error: 'invalid_tenant',
      error_description: `AADSTS90002: ${SIGN_IN_ERRORS[90002].text.replace('{tenant}', tenantSegment)}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${timestamp}`,
      error_codes: [90002],
      timestamp,
      trace_id: traceId,
      correlation_id: randomUUID(),
    });
  }
  if (resource === 'openid') return sendJson(res, 200, openIdConfiguration(state.baseUrl, tenant));
  if (resource === 'keys') return sendJson(res, 200, { keys: [] });

  const body = new URLSearchParams(await readBody(req));
  const fault = takeFault(tenant);
  if (fault?.kind === 'signIn')
    return sendSignInError(req, res, state, fault.code, {
      tenant: tenantSegment,
      clientId: body.get('client_id') ?? '',
    });
  if (fault?.kind === 'reset')
    return sendTruncated(
      res,
      200,
      { token_type: 'Bearer', expires_in: 3599, access_token: 'x'.repeat(200) },
      fault.afterBytes,
    );
  if (fault) return sendGraphFault(req, res, fault);

  const clientId = body.get('client_id') ?? '';
  const grantType = body.get('grant_type') ?? '';
  const vars = { tenant: tenantSegment, clientId, grantType };
  if (grantType === 'client_credentials' || grantType === 'password') {
    if (!tenant.app(clientId)) return sendSignInError(req, res, state, 700016, vars);
  }
  const scope = body.get('scope') ?? '';
  if (grantType === 'client_credentials') {
    const app = tenant.app(clientId)!;
    const secret = body.get('client_secret');
    const assertion = body.get('client_assertion');
    if (secret !== null) {
      if (!app.secrets.includes(secret)) return sendSignInError(req, res, state, 7000215, vars);
    } else if (assertion !== null && isIdentityAssertion(state.federation, assertion)) {
      // A managed identity token: valid only as the app's federated credential describes it.
      const problem = checkFederatedAssertion(state.federation, app.clientId, assertion);
      if (problem) return sendSignInError(req, res, state, problem.code, { ...vars, ...problem.vars });
    } else if (assertion !== null) {
      const problem = checkAssertion(assertion, app.clientId, app.certificates, tokenEndpoints(state.baseUrl, tenant));
      if (problem)
        return sendSignInError(req, res, state, problem.code, { ...vars, thumbprint: problem.thumbprint ?? '' });
    } else return sendSignInError(req, res, state, 7000218, vars);
    const token = issue(state, {
      tenantId: tenant.tenantId,
      clientId: app.clientId,
      roles: app.permissions,
      delegated: false,
      scope: resourceScope(scope),
      expiresAt: 0,
    });
    return sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      access_token: token,
    });
  }
  if (grantType === 'password') {
    const username = body.get('username') ?? '';
    const user = tenant.passwordUser(username);
    if (!user) return sendSignInError(req, res, state, 50034, vars);
    if (user.password !== body.get('password')) return sendSignInError(req, res, state, 50126, vars);
    if (user.mfa === 'required') return sendSignInError(req, res, state, 50076, vars);
    if (user.mfa === 'enroll') return sendSignInError(req, res, state, 50079, vars);
    return sendUserTokens(state, res, tenant, clientId, username, resourceScope(scope));
  }
  if (grantType === 'refresh_token') {
    const previous = state.refreshTokens.get(body.get('refresh_token') ?? '');
    if (!previous || previous.tenantId !== tenant.tenantId) return sendSignInError(req, res, state, 70008, vars);
    return sendUserTokens(state, res, tenant, previous.clientId, previous.username ?? '', previous.scope);
  }
  return sendSignInError(req, res, state, 70003, vars);
}

function userRealm(state: SimState, res: ServerResponse, username: string): void {
  const domain = username.split('@')[1] ?? '';
  const tenant = domain ? findTenant(state, domain) : undefined;
  sendJson(
    res,
    200,
    tenant
      ? {
          ver: '1.0',
          account_type: 'Managed',
          domain_name: domain,
          cloud_instance_name: 'microsoftonline.com',
          cloud_audience_urn: 'urn:federation:MicrosoftOnline',
        }
      : { ver: '1.0', account_type: 'Unknown', cloud_instance_name: 'microsoftonline.com' },
  );
}

function openIdConfiguration(baseUrl: string, tenant: SimTenant): Record<string, unknown> {
  const t = `${baseUrl}/${tenant.tenantId}`;
  return {
    token_endpoint: `${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${t}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'name',
      'tid',
      'ver',
      'oid',
      'preferred_username',
    ],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: new URL(baseUrl).host,
    rbac_url: 'https://pas.windows.net',
  };
}

function tokenEndpoints(baseUrl: string, tenant: SimTenant): string[] {
  return [tenant.tenantId, ...tenant.domains].map((t) => `${baseUrl}/${t}/oauth2/v2.0/token`);
}

/** The resource part of the requested scopes, without the OpenID ones MSAL adds. */
function resourceScope(scope: string): string {
  return scope
    .split(' ')
    .filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s))
    .join(' ');
}

function issue(state: SimState, token: IssuedToken): string {
  const now = Math.floor(Date.now() / 1000);
  // JWT-looking, but only its presence in the issued set makes it valid: Graph here never trusts its content.
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: 'simulated' }));
  const payload = base64url(
    JSON.stringify({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${token.tenantId}/`,
      iat: now,
      exp: now + TOKEN_LIFETIME_SECONDS,
      tid: token.tenantId,
      appid: token.clientId,
      roles: token.roles,
      uti: randomUUID(),
    }),
  );
  const value = `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
  state.tokens.set(value, { ...token, expiresAt: Date.now() + TOKEN_LIFETIME_SECONDS * 1000 });
  return value;
}

function sendUserTokens(
  state: SimState,
  res: ServerResponse,
  tenant: SimTenant,
  clientId: string,
  username: string,
  scope: string,
): void {
  const base = { tenantId: tenant.tenantId, clientId, roles: [], delegated: true, username, scope, expiresAt: 0 };
  const accessToken = issue(state, base);
  const refreshToken = randomBytes(48).toString('base64url');
  state.refreshTokens.set(refreshToken, base);
  const oid = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const idToken = [
    base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: 'simulated' })),
    base64url(
      JSON.stringify({
        aud: clientId,
        iss: `${state.baseUrl}/${tenant.tenantId}/v2.0`,
        iat: now,
        nbf: now,
        exp: now + 3600,
        name: username,
        oid,
        preferred_username: username,
        sub: oid,
        tid: tenant.tenantId,
        ver: '2.0',
      }),
    ),
    randomBytes(32).toString('base64url'),
  ].join('.');
  sendJson(res, 200, {
    token_type: 'Bearer',
    scope,
    expires_in: TOKEN_LIFETIME_SECONDS,
    ext_expires_in: TOKEN_LIFETIME_SECONDS,
    access_token: accessToken,
    refresh_token: refreshToken,
    id_token: idToken,
    client_info: base64url(JSON.stringify({ uid: oid, utid: tenant.tenantId })),
  });
}

function certificatePem(pem: string): string | undefined {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
}

/**
 * Checks a client assertion as Entra does: a key registered on the app (chosen by x5t#S256 or x5t when sent)
 * must verify its signature (RS256 or PS256), iss and sub must be the client id, aud the token endpoint, and it
 * must be within its lifetime.
 */
function checkAssertion(
  assertion: string,
  clientId: string,
  certificates: string[],
  audiences: string[],
): { code: SignInErrorCode; thumbprint?: string } | undefined {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { code: 700027 };
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { code: 700027 };
  }
  const x5t256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  const sentThumbprint = Buffer.from(x5t256 ?? x5t ?? '', 'base64url')
    .toString('hex')
    .toUpperCase();
  const keys = certificates.flatMap((pem) => {
    const certPem = certificatePem(pem);
    if (!certPem) return [];
    const cert = new X509Certificate(certPem);
    return [
      {
        x5t: createHash('sha1').update(cert.raw).digest('base64url'),
        x5t256: createHash('sha256').update(cert.raw).digest('base64url'),
        key: cert.publicKey,
      },
    ];
  });
  const candidates = keys.filter((k) => (x5t256 ? k.x5t256 === x5t256 : x5t ? k.x5t === x5t : true));
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, 'base64url');
  const verified = candidates.some(({ key }) => {
    if (header.alg === 'RS256') return verify('sha256', signed, key, signature);
    if (header.alg === 'PS256') {
      return verify(
        'sha256',
        signed,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        signature,
      );
    }
    return false;
  });
  if (!verified) return { code: 700027, thumbprint: sentThumbprint };
  if (
    payload.iss !== clientId ||
    payload.sub !== clientId ||
    typeof payload.aud !== 'string' ||
    !audiences.includes(payload.aud)
  ) {
    return { code: 700027, thumbprint: sentThumbprint };
  }
  const now = Date.now() / 1000;
  if (
    typeof payload.exp !== 'number' ||
    payload.exp < now - 300 ||
    (typeof payload.nbf === 'number' && payload.nbf > now + 300)
  ) {
    return { code: 700024 };
  }
  return undefined;
}
