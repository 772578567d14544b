import { GraphClientError, GraphError } from '@microsoft/microsoft-graph-client';
import { AppError, ERROR_CODES, isAppError, type ErrorCode } from '../domain/errors';

/**
 * Turns what the Entra sign-in (through @azure/identity and MSAL) and the Graph client throw into AppErrors
 * with a stable code. Messages come from ERROR_CODES; the only detail added is Entra's AADSTS code and first
 * sentence or Graph's own error code and message, with anything that looks like a token removed.
 */

/** A failure of credential.getToken, kept whole: the Graph client passes GraphClientErrors through unchanged. */
export class SignInError extends GraphClientError {
  constructor(readonly original: unknown) {
    super('Signing in to the tenant failed.');
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'SignInError';
  }
}

/** The connection to Graph failed before or while reading a response (refused, reset, DNS, timeout). */
export class GraphNetworkError extends GraphClientError {
  constructor(readonly original: unknown) {
    super('Microsoft Graph could not be reached.');
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'GraphNetworkError';
  }
}

const SIGN_IN_CODES: Record<string, ErrorCode> = {
  '7000215': 'invalid_client_secret',
  '7000222': 'invalid_client_secret', // the secret has expired
  '700027': 'invalid_certificate',
  '90002': 'tenant_not_found',
  '700016': 'app_not_in_tenant',
  '65001': 'app_not_consented',
  '50076': 'mfa_required',
  '50079': 'mfa_required',
  '50126': 'invalid_user_credentials',
  '50034': 'invalid_user_credentials',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'REQUEST_SEND_ERROR',
]);

const MAX_DETAIL = 240;

/** Removes what could be a credential from a text that is about to be shown: JWTs, bearer values, long opaque strings. */
export function sanitizeDetail(text: string): string {
  const cleaned = text
    .replace(/[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[redacted]')
    .replace(/(bearer\s+|(?:assertion|secret|password|token)\s*[=:]\s*)\S+/gi, '$1[redacted]')
    .replace(/[A-Za-z0-9+/_~.-]{41,}={0,2}/g, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > MAX_DETAIL ? `${cleaned.slice(0, MAX_DETAIL - 1)}…` : cleaned;
}

/** Every error in the cause chain (and AggregateErrors), so the code of the innermost failure is found. */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 20) {
    const current = queue.shift();
    if (current === undefined || current === null || out.includes(current)) continue;
    out.push(current);
    if (typeof current === 'object') {
      const c = current as { cause?: unknown; original?: unknown; errors?: unknown[] };
      queue.push(c.cause, c.original, ...(Array.isArray(c.errors) ? c.errors : []));
    }
  }
  return out;
}

function textsOf(error: unknown): string[] {
  return chain(error).flatMap((e) => {
    if (typeof e === 'string') return [e];
    if (typeof e !== 'object' || e === null) return [];
    const o = e as {
      message?: unknown;
      errorMessage?: unknown;
      errorCode?: unknown;
      errorNo?: unknown;
      subError?: unknown;
    };
    return [o.message, o.errorMessage, o.errorCode, o.errorNo, o.subError].filter(
      (v): v is string => typeof v === 'string',
    );
  });
}

export function isNetworkFailure(error: unknown): boolean {
  return chain(error).some((e) => {
    if (e instanceof GraphNetworkError) return true;
    if (typeof e !== 'object' || e === null) return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    return e instanceof TypeError && typeof message === 'string' && /^(fetch failed|terminated)$/.test(message);
  });
}

/** The AADSTS number of a sign-in failure and Entra's first sentence about it. */
export function aadstsOf(error: unknown): { code: string; sentence: string } | undefined {
  for (const text of textsOf(error)) {
    const match = /AADSTS(\d+):?\s*([^\r\n]*)/.exec(text);
    if (match) {
      const sentence = (/^[^.]*\.?/.exec(match[2] ?? '')?.[0] ?? '').trim();
      return { code: match[1]!, sentence };
    }
  }
  return undefined;
}

/** MSAL could not read the tenant's OpenID configuration (unknown tenant, or the authority unreachable). */
export function isEndpointResolutionFailure(error: unknown): boolean {
  return textsOf(error).some(
    (text) => text.includes('endpoints_resolution_error') || /endpoints cannot be resolved/i.test(text),
  );
}

function signInError(error: unknown): AppError {
  // The federated credential maps its own failures (with the values to put in): they pass unchanged.
  if (isAppError(error)) return error;
  const aadsts = aadstsOf(error);
  if (aadsts) {
    const code = SIGN_IN_CODES[aadsts.code] ?? 'sign_in_failed';
    if (code === 'sign_in_failed') {
      return new AppError(code, {
        detail: sanitizeDetail(`AADSTS${aadsts.code}${aadsts.sentence ? `: ${aadsts.sentence}` : ''}`),
      });
    }
    // The message already names the usual AADSTS code; only a sibling code (e.g. 50034 for 50126) is added.
    return new AppError(
      code,
      ERROR_CODES[code].includes(`AADSTS${aadsts.code}`) ? {} : { detail: `AADSTS${aadsts.code}` },
    );
  }
  if (isNetworkFailure(error)) return new AppError('graph_unreachable', { transient: true });
  return new AppError('sign_in_failed');
}

function graphDetail(error: GraphError): string {
  const parts = [error.statusCode > 0 ? String(error.statusCode) : '', error.code ?? '', error.message ?? ''].filter(
    Boolean,
  );
  return sanitizeDetail(parts.join(' '));
}

/**
 * Maps any failure of a Graph read (sign-in included) to an AppError. `throttled` means Graph still answered
 * 429 after the client's bounded retries.
 */
export function graphFailure(error: unknown): AppError {
  if (isAppError(error)) return error;
  if (error instanceof SignInError) return signInError(error.original);
  if (error instanceof GraphNetworkError || isNetworkFailure(error))
    return new AppError('graph_unreachable', { transient: true });
  if (error instanceof GraphError) {
    const status = error.statusCode;
    if (status === 403 && error.code === 'Authorization_RequestDenied')
      return new AppError('consent_missing', { detail: graphDetail(error) });
    if (status === 429) return new AppError('throttled', { transient: true, detail: graphDetail(error) });
    if (status >= 500) return new AppError('graph_error', { transient: true, detail: graphDetail(error) });
    return new AppError('graph_error', { detail: graphDetail(error) });
  }
  if (aadstsOf(error)) return signInError(error);
  return new AppError('graph_error');
}
