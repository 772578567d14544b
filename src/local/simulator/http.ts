import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimFault } from './faults';
import type { FederationState } from './federationState';
import type { SimTenant } from './tenant';

/** What the Entra and Graph handlers share: the tenants, the tokens handed out, and the public address. */
export interface SimState {
  baseUrl: string;
  tenants: SimTenant[];
  tokens: Map<string, IssuedToken>;
  refreshTokens: Map<string, IssuedToken>;
  /**
   * Benchmark only: Graph answers a page of 999 items after this many milliseconds (scaled by the page's item
   * count), like the real service does with licenseAssignmentStates. 0 (the default) answers at once.
   */
  pageDelayMs?: number;
  /** Managed identities, multi-tenant apps and the admin-consent page's answers. */
  federation: FederationState;
}

export interface IssuedToken {
  tenantId: string;
  clientId: string;
  /** Application permissions (roles); a delegated (password) token reads what its user may, here everything. */
  roles: string[];
  delegated: boolean;
  username?: string;
  scope: string;
  expiresAt: number;
}

export function findTenant(state: SimState, tenant: string): SimTenant | undefined {
  return state.tenants.find((candidate) => candidate.answersTo(tenant));
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store, no-cache',
    ...headers,
  });
  res.end(text);
}

/** Writes the headers and part of the body, then destroys the connection, like a network failure mid-page. */
export function sendTruncated(res: ServerResponse, status: number, body: unknown, afterBytes?: number): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': text.length });
  const cut = Math.max(1, Math.min(text.length - 1, afterBytes ?? Math.floor(text.length / 2)));
  res.write(text.subarray(0, cut), () => res.socket?.destroy());
}

/** Graph's error body: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function sendGraphError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestId = randomUUID();
  const clientRequestId = headerOf(req, 'client-request-id') ?? requestId;
  sendJson(
    res,
    status,
    {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': clientRequestId,
        },
      },
    },
    { 'request-id': requestId, 'client-request-id': clientRequestId, ...headers },
  );
}

export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function retryAfterHeader(retryAfter: string | number | undefined): Record<string, string> {
  return retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
}

/** Answers a scripted transport or Graph-level fault; sign-in faults are answered by the Entra side. */
export function sendGraphFault(req: IncomingMessage, res: ServerResponse, fault: SimFault): void {
  switch (fault.kind) {
    case 'throttle':
      sendGraphError(
        req,
        res,
        fault.status ?? 429,
        'Request_ThrottledTemporarily',
        'Your request is throttled temporarily. Please try after a while.',
        retryAfterHeader(fault.retryAfter),
      );
      return;
    case 'unavailable': {
      const status = fault.status ?? 503;
      const code = status === 504 ? 'GatewayTimeout' : status === 503 ? 'ServiceUnavailable' : 'UnknownError';
      sendGraphError(
        req,
        res,
        status,
        code,
        'The service is temporarily unavailable.',
        retryAfterHeader(fault.retryAfter),
      );
      return;
    }
    case 'reset':
      // Callers that have a real body truncate that one; without it, a body of filler is cut instead.
      sendTruncated(res, 200, { value: Array.from({ length: 20 }, (_, i) => ({ id: String(i) })) }, fault.afterBytes);
      return;
    case 'forbidden':
      sendGraphError(
        req,
        res,
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
      return;
    case 'graphError':
      sendGraphError(req, res, fault.status, fault.code, fault.message);
      return;
    case 'signIn':
      sendGraphError(req, res, 401, 'InvalidAuthenticationToken', 'Access token validation failure.');
      return;
  }
}
