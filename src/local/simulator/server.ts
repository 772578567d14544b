import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleAdminConsent, isAdminConsentPath } from './consent';
import { entraResource, handleEntra } from './entra';
import type { SimResource } from './faults';
import { authenticate, graphResource, handleGraph, pageOf } from './graph';
import { findTenant, sendGraphError, sendJson, type SimState } from './http';
import {
  IDENTITY_PATH,
  handleIdentityEndpoint,
  identityIssuer,
  newFederationState,
  type SimConsentAnswer,
  type SimManagedIdentity,
  type SimMultiTenantApp,
  type SimMultiTenantAppInput,
} from './managedIdentity';
import { SimTenant, type SimTenantInput } from './tenant';

/**
 * Simulated Entra ID and Microsoft Graph on one HTTPS server on 127.0.0.1, for tests and the local demo. The
 * real @azure/identity and Graph SDK talk to it: point a credential's authorityHost and the Graph client at
 * `url`. Anything it does not know is a 404, so a request meant for a real Microsoft host shows up as a failure.
 */

export interface SimulatorOptions {
  /** PEM certificate and key for 127.0.0.1; clients must trust the certificate (NODE_EXTRA_CA_CERTS). */
  cert: string;
  key: string;
  /** Default 0: any free port. */
  port?: number;
  /** Benchmark only: see setPageDelay. */
  pageDelayMs?: number;
}

export interface SimRequestRecord {
  /** The tenant the request was for (from the path or the access token), when known. */
  tenantId?: string;
  method: string;
  /** The path without the query, e.g. `/v1.0/users` or `/<tenant>/oauth2/v2.0/token`. */
  path: string;
  /** The raw query string, e.g. `?$select=id&$top=999`. */
  query: string;
  resource: SimResource | 'unknown';
}

export interface Simulator {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** What a credential's authorityHost is set to. */
  readonly authorityHost: string;
  /** What the Graph client's base URL is set to (Graph paths start with /v1.0). */
  readonly graphEndpoint: string;
  addTenant(input?: SimTenantInput): SimTenant;
  removeTenant(tenant: SimTenant | string): void;
  tenant(idOrDomain: string): SimTenant | undefined;
  /** Requests received, optionally only for one path (exact string, or a pattern) and one tenant. */
  requestCount(path?: string | RegExp, tenantId?: string): number;
  requests(): readonly SimRequestRecord[];
  resetCounts(): void;
  /** Forgets every access token handed out, so Graph answers 401 until clients sign in again. */
  revokeTokens(): void;
  /** Benchmark only: Graph answers a page of 999 items after `ms` (scaled by its item count); 0: at once. */
  setPageDelay(ms: number): void;
  /** IDENTITY_ENDPOINT and IDENTITY_HEADER of the simulated App Service managed-identity endpoint. */
  readonly identityEndpoint: string;
  readonly identityHeader: string;
  /** A user-assigned managed identity of the operator's (home) tenant. */
  addManagedIdentity(identity: SimManagedIdentity): void;
  /** The issuer of that tenant's managed identity tokens, as a federated credential names it. */
  identityIssuer(tenantId: string): string;
  /** The operator's multi-tenant app (its federated credentials and redirect URIs); replaces one of that id. */
  addMultiTenantApp(input: SimMultiTenantAppInput): SimMultiTenantApp;
  multiTenantApp(clientId: string): SimMultiTenantApp | undefined;
  /** Queues the admin-consent page's next answer; `fallback` answers when none is queued. */
  answerConsent(answer: SimConsentAnswer, options?: { fallback?: boolean }): void;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const state: SimState = {
    baseUrl: '',
    tenants: [],
    tokens: new Map(),
    refreshTokens: new Map(),
    pageDelayMs: options.pageDelayMs ?? 0,
    federation: newFederationState(),
  };
  const log: SimRequestRecord[] = [];
  const count = (path?: string | RegExp, tenantId?: string) =>
    log.filter(
      (r) =>
        (!tenantId || r.tenantId === tenantId) &&
        (path === undefined || (typeof path === 'string' ? r.path === path : path.test(r.path))),
    ).length;

  const server: Server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
    handle(state, log, req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendGraphError(
          req,
          res,
          500,
          'UnknownError',
          `Simulator failure: ${error instanceof Error ? error.message : String(error)}`,
        );
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  state.baseUrl = `https://127.0.0.1:${port}`;

  return {
    url: state.baseUrl,
    authorityHost: state.baseUrl,
    graphEndpoint: state.baseUrl,
    addTenant(input: SimTenantInput = {}) {
      const tenant = new SimTenant(input, (tenantId, path) => count(path, tenantId));
      for (const name of [tenant.tenantId, ...tenant.domains]) {
        if (findTenant(state, name)) throw new Error(`A simulated tenant already answers to ${name}`);
      }
      state.tenants.push(tenant);
      return tenant;
    },
    removeTenant(tenant) {
      const id = typeof tenant === 'string' ? tenant.toLowerCase() : tenant.tenantId;
      state.tenants = state.tenants.filter((t) => t.tenantId !== id && !t.answersTo(id));
    },
    tenant: (idOrDomain) => findTenant(state, idOrDomain),
    requestCount: count,
    requests: () => log,
    resetCounts: () => {
      log.length = 0;
    },
    revokeTokens: () => {
      state.tokens.clear();
      state.refreshTokens.clear();
    },
    setPageDelay: (ms) => {
      state.pageDelayMs = ms;
    },
    identityEndpoint: `${state.baseUrl}${IDENTITY_PATH}`,
    identityHeader: state.federation.identityHeader,
    addManagedIdentity: (identity) => {
      state.federation.identities.set(identity.clientId.toLowerCase(), { ...identity });
    },
    identityIssuer: (tenantId) => identityIssuer(state.baseUrl, tenantId),
    addMultiTenantApp: (input) => {
      const app: SimMultiTenantApp = {
        clientId: input.clientId,
        displayName: input.displayName ?? 'License sync (multi-tenant)',
        redirectUris: input.redirectUris ?? [],
        federatedCredentials: input.federatedCredentials ?? [],
        permissions: input.permissions ?? ['Organization.Read.All', 'User.Read.All'],
      };
      state.federation.apps.set(input.clientId.toLowerCase(), app);
      return app;
    },
    multiTenantApp: (clientId) => state.federation.apps.get(clientId.toLowerCase()),
    answerConsent: (answer, options) => {
      if (options?.fallback) state.federation.defaultConsent = answer;
      else state.federation.consentAnswers.push(answer);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  state: SimState,
  log: SimRequestRecord[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', state.baseUrl);
  const segments = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';

  if (segments[0] === 'v1.0') {
    const resource = graphResource(segments);
    const record: SimRequestRecord = { method, path: url.pathname, query: url.search, resource };
    log.push(record);
    const auth = authenticate(state, req, res);
    if (!auth) return;
    record.tenantId = auth.tenant.tenantId;
    const fault = auth.tenant.takeFault({
      tenantId: auth.tenant.tenantId,
      resource,
      method,
      path: url.pathname,
      query: url.searchParams,
      page: pageOf(resource, url),
    });
    return handleGraph(state, req, res, url, resource, auth, fault);
  }

  if (url.pathname === IDENTITY_PATH) {
    log.push({ method, path: url.pathname, query: url.search, resource: 'other' });
    return handleIdentityEndpoint(state.federation, state.baseUrl, req, res, url);
  }
  if (isAdminConsentPath(segments)) {
    log.push({ method, path: url.pathname, query: url.search, resource: 'other' });
    return handleAdminConsent(state, res, url);
  }

  const entra = segments.length > 0 ? entraResource(segments) : undefined;
  if (entra) {
    const tenant = entra === 'userrealm' ? undefined : findTenant(state, segments[0]!);
    log.push({
      method,
      path: url.pathname,
      query: url.search,
      resource: entra === 'keys' ? 'other' : entra,
      tenantId: tenant?.tenantId,
    });
    const resource: SimResource = entra === 'keys' ? 'other' : entra;
    return handleEntra(state, req, res, url, segments, entra, (t) =>
      t.takeFault({ tenantId: t.tenantId, resource, method, path: url.pathname, query: url.searchParams }),
    );
  }

  log.push({ method, path: url.pathname, query: url.search, resource: 'unknown' });
  sendJson(res, 404, {
    error: 'not_found',
    error_description: `The simulator does not serve ${method} ${url.pathname}.`,
  });
}
