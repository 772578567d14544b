import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import type { Services } from '../domain/ports';
import { authorize, type Principal } from '../auth/principal';
import { isCrossSiteWrite } from '../auth/origin';
import { loadSettings } from '../config/settings';
import { defineHttp, type HttpDefinition } from '../host/registry';
import { invocationLogger } from '../runs/log';
import { annotateRequest } from '../telemetry';
import { ERROR_CODES, isAppError, type ErrorCode } from '../domain/errors';
import { ConflictError, NotFoundError } from '../domain/ledger';
import { InvalidInputError } from '../portals/errors';
import type { Endpoint, EndpointInput } from './endpoint';
import { MAX_BODY_BYTES, type ErrorResponse, type FieldError } from './schemas';
import { malformedStrings, NOT_WELL_FORMED } from './text';

/**
 * The one place that turns an HTTP request into a use-case call and its outcome into a response: parse the
 * path, query and body with the endpoint's zod schemas (400 naming the failing fields), call the controller,
 * pass the result through the response schema (so nothing it does not list leaves), map errors to statuses.
 */

export interface ApiResult {
  status: number;
  body?: unknown;
  /** A response that is not JSON (a CSV file, src/api/lists.ts), sent as it is: it checks its rows itself. */
  raw?: { headers: Record<string, string>; body: HttpResponseInit['body'] };
}

export type Controller<E extends Endpoint> = (input: EndpointInput<E>, services: Services) => Promise<ApiResult>;

/** An error answered as-is: status, stable code, message, failing fields. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A response that does not match its own schema: a bug of ours, answered 500 (its message holds paths only). */
class ResponseMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseMismatchError';
  }
}

/** The Functions host passes the function key as `?code=`; it is not an input of any route. */
const HOST_QUERY_PARAMS = new Set(['code']);

const APP_ERROR_STATUS: Record<ErrorCode, number> = {
  invalid_client_secret: 422,
  invalid_certificate: 422,
  tenant_not_found: 422,
  app_not_in_tenant: 422,
  mfa_required: 422,
  invalid_user_credentials: 422,
  sign_in_failed: 422,
  app_not_consented: 422,
  federated_credential_missing: 422,
  federated_subject_mismatch: 422,
  managed_identity_unavailable: 422,
  multitenant_app_missing: 409,
  consent_missing: 422,
  graph_unreachable: 502,
  graph_error: 502,
  activity_permission_missing: 422,
  activity_premium_missing: 422,
  throttled: 503,
  channel_url_refused: 400,
  secret_missing: 409,
  portal_not_found: 404,
  portal_inactive: 409,
  run_in_progress: 409,
  portal_deleting: 409,
  lease_lost: 409,
  storage_error: 503,
  internal_error: 500,
};

/**
 * Registers an API route as an HTTP function: one function per method and route. Behind a function key with
 * LICENSE_SYNC_AUTH=key; otherwise the host lets every request through and the handler authorizes it (easyauth:
 * App Service Authentication has already turned away requests without a session or token).
 */
export function defineApiRoute<E extends Endpoint>(
  endpoint: E,
  controller: Controller<E>,
  services: () => Promise<Services>,
): HttpDefinition {
  return defineHttp({
    name: endpoint.name,
    route: endpoint.route,
    methods: [endpoint.method],
    authLevel: loadSettings().auth === 'key' ? 'function' : 'anonymous',
    handler: httpHandler(endpoint, controller, services),
  });
}

/** A page a browser reaches without this app's sign-in (Microsoft's consent redirect): no role, no JSON. */
export interface PageRoute {
  name: string;
  method: 'GET';
  route: string;
}

export type PageHandler = (request: HttpRequest, services: Services) => Promise<HttpResponseInit>;

/**
 * Registers a page route: anonymous at the host in every LICENSE_SYNC_AUTH mode and never authorized by role: the
 * browser comes back from Microsoft without a function key or a session of this app (infra/main.bicep excludes
 * the path from App Service Authentication). The handler guards itself (the consent callback: its single-use
 * state, which only an Admin's connect makes). API routes never come through here.
 */
export function definePageRoute(
  page: PageRoute,
  handler: PageHandler,
  getServices: () => Promise<Services>,
): HttpDefinition {
  return defineHttp({
    name: page.name,
    route: page.route,
    methods: [page.method],
    authLevel: 'anonymous',
    handler: async (request, context) =>
      handler(request, { ...(await getServices()), logger: invocationLogger(context) }),
  });
}

/** `getServices` is the composition root's (every function file passes it), so this layer never imports it. */
export function httpHandler<E extends Endpoint>(
  endpoint: E,
  controller: Controller<E>,
  getServices: () => Promise<Services>,
): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    let services: Services | undefined;
    try {
      // Log lines go through the invocation, so Application Insights ties them to the request.
      services = { ...(await getServices()), logger: invocationLogger(context) };
      const access = authorize(services.settings.auth, request.headers, endpoint.role);
      if (!access.ok) throw new ApiError(access.status, access.code, access.message);
      // The request's span names the caller by object id only (never a name).
      annotateRequest({ objectId: access.principal.objectId });
      if (isCrossSiteWrite(request.method, request.url, request.headers)) {
        throw new ApiError(403, 'cross_site_request', 'Changes are accepted only from pages of this app (Origin).');
      }
      const input = await parseInput(endpoint, request, access.principal);
      const result = await controller(input, services);
      return respond(endpoint, result);
    } catch (error) {
      const { status, body } = errorResponse(error);
      const log = { function: endpoint.name, invocationId: context.invocationId, status, code: body.error.code };
      if (status >= 500) {
        // The error's name and code only: messages of unexpected errors are not vetted for secrets.
        const what = error instanceof ResponseMismatchError ? error.message : errorName(error);
        services?.logger.error('request failed', { ...log, error: what });
        context.error(`${endpoint.name} failed: ${status} ${body.error.code} (${what})`);
      } else {
        services?.logger.info('request refused', log);
      }
      return json(status, body);
    }
  };
}

async function parseInput(
  endpoint: Endpoint,
  request: HttpRequest,
  principal: Principal,
): Promise<EndpointInput<Endpoint>> {
  const params = parseWith(endpoint.params, { ...request.params }, 'path');
  const rawQuery: Record<string, string> = {};
  for (const [key, value] of request.query) {
    if (HOST_QUERY_PARAMS.has(key)) continue;
    if (Object.hasOwn(rawQuery, key)) {
      throw new ApiError(400, 'bad_request', 'The request is invalid.', [
        { in: 'query', path: key, message: 'must be given once' },
      ]);
    }
    rawQuery[key] = value;
  }
  const query = parseWith(endpoint.query, wellFormed(rawQuery, 'query'), 'query');
  const body = endpoint.body
    ? parseWith(endpoint.body, wellFormed(await readJson(request), 'body'), 'body')
    : undefined;
  return { principal, params, query, body } as EndpointInput<Endpoint>;
}

/** No field of any kind may hold a lone surrogate (JSON's `"\ud800"`): storage would refuse or mangle it. */
function wellFormed(value: unknown, where: FieldError['in']): unknown {
  const paths = malformedStrings(value);
  if (paths.length === 0) return value;
  throw new ApiError(
    400,
    'bad_request',
    'The request is invalid: see the failing fields.',
    paths.map((path) => ({ in: where, path, message: NOT_WELL_FORMED })),
  );
}

function parseWith(schema: z.ZodType, value: unknown, where: FieldError['in']): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ApiError(
    400,
    'bad_request',
    'The request is invalid: see the failing fields.',
    fieldsOf(parsed.error, where),
  );
}

/** The failing fields: dotted paths and zod's messages (which never quote the input). */
export function fieldsOf(error: z.ZodError, where: FieldError['in']): FieldError[] {
  const fields: FieldError[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        fields.push({ in: where, path: [...base, key].join('.'), message: 'is not a known field' });
    } else {
      fields.push({ in: where, path: base.join('.'), message: issue.message });
    }
  }
  return fields;
}

async function readJson(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  // A body without this type is what a cross-site form sends; a JSON type makes a browser ask first (CORS).
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type.trim())) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).');
  }
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  const text = bytes.toString('utf8');
  if (text.trim() === '') {
    throw new ApiError(400, 'bad_request', 'The request needs a JSON body.', [
      { in: 'body', path: '', message: 'is required' },
    ]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Never echo the body: it may hold a secret.
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.', [
      { in: 'body', path: '', message: 'is not valid JSON' },
    ]);
  }
}

function tooLarge(): ApiError {
  return new ApiError(413, 'payload_too_large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
}

function respond(endpoint: Endpoint, result: ApiResult): HttpResponseInit {
  const spec = endpoint.responses[result.status];
  if (!spec) throw new ResponseMismatchError(`${endpoint.name} answered ${result.status}, which it does not declare`);
  // A file (a CSV export) goes out as the controller made it, with the headers every answer carries.
  if (result.raw)
    return { ...result.raw, status: result.status, headers: { ...result.raw.headers, ...SECURITY_HEADERS } };
  if (!spec.schema) return { status: result.status, headers: { ...SECURITY_HEADERS } };
  const parsed = spec.schema.safeParse(result.body);
  if (!parsed.success) {
    throw new ResponseMismatchError(
      `${endpoint.name}: the ${result.status} response does not match its schema at ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  }
  return json(result.status, parsed.data);
}

export function errorResponse(error: unknown): { status: number; body: ErrorResponse } {
  const make = (status: number, code: string, message: string, fields?: FieldError[]) => ({
    status,
    body: { error: { code, message, ...(fields?.length ? { fields } : {}) } },
  });
  if (error instanceof ApiError) return make(error.status, error.code, error.message, error.fields);
  if (error instanceof InvalidInputError) {
    return make(
      400,
      'bad_request',
      'The request is invalid: see the failing fields.',
      error.fields.map((f) => ({ in: 'body' as const, ...f })),
    );
  }
  if (isAppError(error)) return make(APP_ERROR_STATUS[error.code] ?? 500, error.code, error.message);
  if (error instanceof ConflictError) return make(409, 'conflict', error.message);
  if (error instanceof NotFoundError) return make(404, 'not_found', error.message);
  return make(500, 'internal_error', ERROR_CODES.internal_error);
}

/** On every API response: a browser must never read an answer as anything but what its type says. */
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;

function json(status: number, body: unknown): HttpResponseInit {
  return {
    status,
    jsonBody: body,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS },
  };
}

function errorName(error: unknown): string {
  const e = error as { name?: string; code?: unknown } | undefined;
  return [e?.name ?? 'Error', typeof e?.code === 'string' ? e.code : undefined].filter(Boolean).join(' ');
}
