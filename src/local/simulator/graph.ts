import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { User } from '@microsoft/microsoft-graph-types';
import type { SimFault, SimResource } from './faults';
import {
  headerOf,
  sendGraphError,
  sendGraphFault,
  sendJson,
  sendTruncated,
  type IssuedToken,
  type SimState,
} from './http';
import { handleSendMail, isSendMail } from './mail';
import type { SimTenant } from './tenant';

/**
 * The simulated Microsoft Graph v1.0: /subscribedSkus, /directory/subscriptions, /users (with $select, $top and
 * $skiptoken paging; signInActivity with its own page limit, permission and licence requirements) and
 * /users/delta (initial round, then changes and removals since a delta link). Bodies and errors have Graph's
 * wire shape; page tokens are opaque to clients and carry their own state, so nothing grows per request.
 */

const MAX_PAGE_SIZE = 999;
const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const USER_PROPERTIES = [
  ...DEFAULT_USER_PROPERTIES,
  'accountEnabled',
  'userType',
  'createdDateTime',
  'proxyAddresses',
  'assignedLicenses',
  'licenseAssignmentStates',
];
/** Only a list of users can select it (not /users/delta), and then at most this many users a page. */
const SIGN_IN_ACTIVITY = 'signInActivity';
const MAX_SIGN_IN_ACTIVITY_PAGE_SIZE = 120;
const READ_AUDIT_LOG = ['AuditLog.Read.All'];
const READ_ORGANIZATION = [
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const READ_SUBSCRIPTIONS = [...READ_ORGANIZATION, 'LicenseAssignment.Read.All'];
const READ_USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

export function graphResource(segments: string[]): SimResource {
  const rest = segments.slice(1).join('/');
  if (rest === 'subscribedSkus') return 'subscribedSkus';
  if (rest === 'directory/subscriptions') return 'subscriptions';
  if (isSendMail(segments)) return 'sendMail';
  if (rest === 'users') return 'users';
  if (rest === 'users/delta' || rest === 'users/delta()') return 'usersDelta';
  return 'other';
}

interface PageToken {
  t: string;
  p: number;
  c?: number;
}

interface DeltaToken {
  t: string;
  e: number;
  s: string[];
  /** initial round: next position; changes round: since, until and the last key sent */
  m: 'i' | 'c' | 'd';
  c?: number;
  since?: number;
  until?: number;
  k?: string;
  p?: number;
  n?: number;
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode<T>(token: string | null): T | undefined {
  if (!token) return undefined;
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export function authenticate(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
): { token: IssuedToken; tenant: SimTenant } | undefined {
  const header = headerOf(req, 'authorization') ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) {
    sendGraphError(req, res, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    return undefined;
  }
  const token = state.tokens.get(match[1]!.trim());
  const tenant = token && state.tenants.find((t) => t.tenantId === token.tenantId);
  if (!token || !tenant) {
    sendGraphError(req, res, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    return undefined;
  }
  if (token.expiresAt < Date.now()) {
    sendGraphError(req, res, 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    return undefined;
  }
  return { token, tenant };
}

/** The 1-based page a /users or /users/delta request asks for, from its page token. */
export function pageOf(resource: SimResource, url: URL): number | undefined {
  if (resource === 'users') return decode<PageToken>(url.searchParams.get('$skiptoken'))?.p ?? 1;
  if (resource === 'usersDelta') {
    const token = decode<DeltaToken>(url.searchParams.get('$skiptoken'));
    return token?.p ?? 1;
  }
  return undefined;
}

export function handleGraph(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  resource: SimResource,
  auth: { token: IssuedToken; tenant: SimTenant },
  fault: SimFault | undefined,
): void {
  if (fault && fault.kind !== 'reset') return sendGraphFault(req, res, fault);
  const { token, tenant } = auth;
  if (resource === 'sendMail')
    return void handleSendMail(req, res, url.pathname.split('/').filter(Boolean), token, tenant);
  if (req.method !== 'GET')
    return sendGraphError(req, res, 405, 'Request_BadRequest', 'The HTTP method is not allowed for this resource.');
  const allowed = (permissions: string[]) => token.delegated || token.roles.some((role) => permissions.includes(role));

  let answer: { status: number; body: unknown } | undefined;
  switch (resource) {
    case 'subscribedSkus':
      if (!allowed(READ_ORGANIZATION)) return denied(req, res);
      answer = {
        status: 200,
        body: { '@odata.context': `${state.baseUrl}/v1.0/$metadata#subscribedSkus`, value: tenant.subscribedSkus() },
      };
      break;
    case 'subscriptions':
      if (!allowed(READ_SUBSCRIPTIONS)) return denied(req, res);
      answer = {
        status: 200,
        body: {
          '@odata.context': `${state.baseUrl}/v1.0/$metadata#directory/subscriptions`,
          value: tenant.companySubscriptions(),
        },
      };
      break;
    case 'users':
      if (!allowed(READ_USERS)) return denied(req, res);
      answer = listUsers(state, req, res, url, tenant, allowed(READ_AUDIT_LOG));
      break;
    case 'usersDelta':
      if (!allowed(READ_USERS)) return denied(req, res);
      answer = userDelta(state, req, res, url, tenant);
      break;
    default:
      return sendGraphError(
        req,
        res,
        400,
        'BadRequest',
        `Resource not found for the segment '${url.pathname.split('/')[2] ?? ''}'.`,
      );
  }
  if (!answer) return; // an error was sent
  if (fault?.kind === 'reset') return sendTruncated(res, answer.status, answer.body, fault.afterBytes);
  const { status, body } = answer;
  const send = () =>
    sendJson(res, status, body, {
      'request-id': randomUUID(),
      'client-request-id': headerOf(req, 'client-request-id') ?? randomUUID(),
    });
  const delay = pageDelay(state, body);
  if (delay > 0) setTimeout(send, delay);
  else send();
}

/** The benchmark's Graph latency for one answer: pageDelayMs per 999 items, at least one item's worth. */
function pageDelay(state: SimState, body: unknown): number {
  if (!state.pageDelayMs) return 0;
  const value = typeof body === 'object' && body !== null ? (body as { value?: unknown }).value : undefined;
  const items = Array.isArray(value) ? value.length : 0;
  return (state.pageDelayMs * Math.max(1, items)) / 999;
}

/** Graph's answer to a token without the permission a request needs. */
function denied(req: IncomingMessage, res: ServerResponse): void {
  sendGraphError(req, res, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
}

/** Parses $select; undefined after answering 400 for an unknown property. */
function parseSelect(
  req: IncomingMessage,
  res: ServerResponse,
  raw: string | null,
  known: string[] = USER_PROPERTIES,
): string[] | undefined {
  if (raw === null || raw.trim() === '') return DEFAULT_USER_PROPERTIES;
  const selected: string[] = [];
  for (const name of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const property = known.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!property) {
      sendGraphError(
        req,
        res,
        400,
        'BadRequest',
        `Parsing OData Select and Expand failed: Could not find a property named '${name}' on type 'microsoft.graph.user'.`,
      );
      return undefined;
    }
    if (!selected.includes(property)) selected.push(property);
  }
  return selected;
}

function project(user: User, properties: string[], alwaysId: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (alwaysId) out.id = user.id;
  for (const property of properties) out[property] = (user as Record<string, unknown>)[property] ?? null;
  return out;
}

function listUsers(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  tenant: SimTenant,
  mayReadAuditLog: boolean,
): { status: number; body: unknown } | undefined {
  const select = parseSelect(req, res, url.searchParams.get('$select'), [...USER_PROPERTIES, SIGN_IN_ACTIVITY]);
  if (!select) return undefined;
  const activity = select.includes(SIGN_IN_ACTIVITY);
  if (activity && !signInActivityAllowed(req, res, tenant, mayReadAuditLog)) return undefined;
  const maxTop = activity ? MAX_SIGN_IN_ACTIVITY_PAGE_SIZE : MAX_PAGE_SIZE;
  const topRaw = url.searchParams.get('$top');
  const top = topRaw === null ? Math.min(tenant.defaultPageSize, maxTop) : Number(topRaw);
  if (!Number.isInteger(top) || top < 1 || top > maxTop) {
    sendGraphError(
      req,
      res,
      400,
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${topRaw}'. Must be between 1 and ${maxTop} inclusive.`,
    );
    return undefined;
  }
  const filter = url.searchParams.get('$filter');
  const licensedOnly = filter !== null && isLicensedFilter(filter);
  if (licensedOnly && !advancedQueryAllowed(req, res, url)) return undefined;
  if (filter !== null && !licensedOnly) {
    // Only the form the sync uses: id in ('...', ...), at most 15 values, as Graph allows.
    const match = /^id in \((.*)\)$/.exec(filter.trim());
    const ids = match ? [...match[1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]!.toLowerCase()) : [];
    if (!match || ids.length === 0 || ids.length > 15) {
      sendGraphError(
        req,
        res,
        400,
        'Request_UnsupportedQuery',
        "Unsupported or invalid query filter clause specified for property 'id' of resource 'User'.",
      );
      return undefined;
    }
    const found = ids.flatMap((id) => {
      try {
        return [tenant.graphUser(id)];
      } catch {
        return [];
      }
    });
    return {
      status: 200,
      body: {
        '@odata.context': `${state.baseUrl}/v1.0/$metadata#users(${select.join(',')})`,
        value: found.map((user) => project(user, select, false)),
      },
    };
  }
  const skipRaw = url.searchParams.get('$skiptoken');
  const skip = decode<PageToken>(skipRaw);
  if (skipRaw !== null && (!skip || skip.t !== tenant.tenantId || typeof skip.c !== 'number')) {
    sendGraphError(
      req,
      res,
      400,
      'Directory_ExpiredPageToken',
      'The specified page token value has expired and can no longer be included in your request.',
    );
    return undefined;
  }
  const page = skip?.p ?? 1;
  const { users, next } = tenant.listUsers(skip?.c ?? 0, top, licensedOnly);
  const context = `${state.baseUrl}/v1.0/$metadata#users(${select.join(',')})`;
  const body: Record<string, unknown> = { '@odata.context': context };
  if (next !== undefined) {
    const nextUrl = new URL(`${state.baseUrl}/v1.0/users`);
    for (const name of ['$select', '$filter', '$count']) {
      if (url.searchParams.has(name)) nextUrl.searchParams.set(name, url.searchParams.get(name)!);
    }
    nextUrl.searchParams.set('$top', String(top));
    nextUrl.searchParams.set('$skiptoken', encode({ t: tenant.tenantId, p: page + 1, c: next } satisfies PageToken));
    body['@odata.nextLink'] = decodeURIComponent(nextUrl.toString());
  }
  body.value = users.map((user) => project(user, select, false));
  return { status: 200, body };
}

/**
 * signInActivity needs AuditLog.Read.All besides User.Read.All, and Entra ID P1 or P2 in the tenant; Graph answers
 * 403 with these codes otherwise.
 */
function signInActivityAllowed(
  req: IncomingMessage,
  res: ServerResponse,
  tenant: SimTenant,
  mayReadAuditLog: boolean,
): boolean {
  if (!mayReadAuditLog) {
    denied(req, res);
    return false;
  }
  if (!tenant.premium) {
    sendGraphError(
      req,
      res,
      403,
      'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      "Neither tenant is B2C or tenant doesn't have premium license",
    );
    return false;
  }
  return true;
}

/** `assignedLicenses/$count ne 0`: users who hold at least one plan (an advanced query). */
function isLicensedFilter(filter: string): boolean {
  return /^assignedLicenses\/\$count\s+ne\s+0$/i.test(filter.trim());
}

/** Advanced queries need ConsistencyLevel: eventual and $count=true; Graph answers 400 without them. */
function advancedQueryAllowed(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const eventual = (headerOf(req, 'consistencylevel') ?? '').toLowerCase() === 'eventual';
  if (eventual && url.searchParams.get('$count') === 'true') return true;
  sendGraphError(req, res, 400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  return false;
}

function pageSizeOf(req: IncomingMessage, tenant: SimTenant): number {
  const prefer = headerOf(req, 'prefer') ?? '';
  const match = /odata\.maxpagesize=(\d+)/i.exec(prefer);
  return Math.min(MAX_PAGE_SIZE, Math.max(1, match ? Number(match[1]) : tenant.defaultPageSize));
}

function userDelta(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  tenant: SimTenant,
): { status: number; body: unknown } | undefined {
  const gone = () => {
    sendGraphError(
      req,
      res,
      410,
      'syncStateNotFound',
      'The sync state generation is not found. Delta tokens are valid for a limited time; restart the sync with a full delta round.',
    );
    return undefined;
  };
  const skipRaw = url.searchParams.get('$skiptoken');
  const deltaRaw = url.searchParams.get('$deltatoken');
  const link = (params: Record<string, string>) => {
    const target = new URL(`${state.baseUrl}/v1.0/users/delta`);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    return decodeURIComponent(target.toString());
  };
  let token: DeltaToken;
  if (skipRaw !== null || (deltaRaw !== null && deltaRaw !== 'latest')) {
    const decoded = decode<DeltaToken>(skipRaw ?? deltaRaw);
    if (!decoded || decoded.t !== tenant.tenantId || decoded.e !== tenant.currentDeltaEpoch()) return gone();
    token = decoded;
    if (token.m === 'd')
      token = {
        t: token.t,
        e: token.e,
        s: token.s,
        m: 'c',
        since: token.since,
        until: tenant.currentVersion(),
        k: '',
        p: 1,
        n: pageSizeOf(req, tenant),
      };
  } else {
    const select = parseSelect(req, res, url.searchParams.get('$select'));
    if (!select) return undefined;
    const version = tenant.currentVersion();
    if (deltaRaw === 'latest') {
      return {
        status: 200,
        body: {
          '@odata.context': `${state.baseUrl}/v1.0/$metadata#users`,
          '@odata.deltaLink': link({
            $deltatoken: encode({
              t: tenant.tenantId,
              e: tenant.currentDeltaEpoch(),
              s: select,
              m: 'd',
              since: version,
            }),
          }),
          value: [],
        },
      };
    }
    token = {
      t: tenant.tenantId,
      e: tenant.currentDeltaEpoch(),
      s: select,
      m: 'i',
      c: 0,
      until: version,
      p: 1,
      n: pageSizeOf(req, tenant),
    };
  }
  const size = token.n ?? pageSizeOf(req, tenant);
  const body: Record<string, unknown> = {
    '@odata.context': `${state.baseUrl}/v1.0/$metadata#users(${token.s.join(',')})`,
  };
  let value: Record<string, unknown>[];
  let nextToken: DeltaToken | undefined;
  if (token.m === 'i') {
    const { users, next } = tenant.listUsers(token.c ?? 0, size);
    value = users.map((user) => project(user, token.s, true));
    if (next !== undefined) nextToken = { ...token, c: next, p: (token.p ?? 1) + 1 };
  } else {
    const { items, more } = tenant.deltaChanges(token.since ?? 0, token.until ?? 0, token.k ?? '', size);
    const partial = new Set(['displayName', 'userPrincipalName']);
    const properties = tenant.deltaChangedPropertiesOnly ? token.s.filter((p) => partial.has(p)) : token.s;
    value = items.map((item) =>
      item.removed
        ? { id: item.removed.id, '@removed': { reason: item.removed.reason } }
        : project(item.user!, properties, true),
    );
    if (more) nextToken = { ...token, k: items[items.length - 1]!.key, p: (token.p ?? 1) + 1 };
  }
  if (nextToken) body['@odata.nextLink'] = link({ $skiptoken: encode(nextToken) });
  else
    body['@odata.deltaLink'] = link({
      $deltatoken: encode({
        t: tenant.tenantId,
        e: token.e,
        s: token.s,
        m: 'd',
        since: token.until,
      } satisfies DeltaToken),
    });
  body.value = value;
  return { status: 200, body };
}
