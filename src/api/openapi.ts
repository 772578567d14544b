import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import type { ZodObject } from 'zod';
import { ADMIN_ROLE, READER_ROLE } from '../auth/principal';
import { openApiPath, type Endpoint, type ResponseSpec } from './endpoint';
import { endpoints } from './endpoints';
import { isListEndpoint } from './lists';
import { csvFileSchema, errorResponseSchema } from './schemas';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the endpoint list and its zod schemas (the same ones
 * the handlers parse with), so the description cannot drift from the code. 3.1 because its schemas are JSON Schema
 * 2020-12: 3.0's `nullable` cannot describe zod's open objects and records (`redocly lint` rejects them).
 * Built once per process.
 */

type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const FUNCTION_KEY = 'functionKey';
const ENTRA = 'entra';

/** What each route's `role` means, as the document says it. */
const ROLE_TEXT: Record<Endpoint['role'], string> = {
  SignedIn: 'any signed-in principal',
  Reader: `${READER_ROLE} or ${ADMIN_ROLE}`,
  Admin: ADMIN_ROLE,
};

function responsesOf(endpoint: Endpoint): Record<string, ResponseConfig> {
  const responses: Record<string, ResponseConfig> = {};
  const bodyErrors: Record<number, ResponseSpec> = endpoint.body
    ? {
        413: { description: 'The body is larger than 64 KiB.', schema: errorResponseSchema },
        415: { description: 'The body is not JSON.', schema: errorResponseSchema },
      }
    : {};
  const all: Record<number, ResponseSpec> = {
    ...endpoint.responses,
    ...bodyErrors,
    401: {
      description:
        'Not signed in (unauthenticated), or the function key is missing or wrong (x-functions-key header or ?code=; Azure answers without a body).',
      schema: errorResponseSchema,
    },
    403: {
      description: `Signed in without the app role this route needs (${ROLE_TEXT[endpoint.role]}), or a change from another site (cross_site_request).`,
      schema: errorResponseSchema,
    },
    500: { description: 'An unexpected error (internal_error).', schema: errorResponseSchema },
  };
  for (const [status, spec] of Object.entries(all)) {
    responses[status] = spec.schema
      ? {
          description: spec.description,
          content: {
            'application/json': { schema: spec.schema },
            ...(status === '200' && isListEndpoint(endpoint) ? { 'text/csv': { schema: csvFileSchema } } : {}),
          },
        }
      : { description: spec.description };
  }
  return responses;
}

function routeOf(endpoint: Endpoint): RouteConfig {
  const params = endpoint.params as ZodObject;
  const query = endpoint.query as ZodObject;
  return {
    method: endpoint.method.toLowerCase() as RouteConfig['method'],
    path: openApiPath(endpoint.route),
    operationId: endpoint.name,
    summary: endpoint.summary,
    description: [endpoint.description, `Role: ${ROLE_TEXT[endpoint.role]}.`].filter(Boolean).join('\n\n'),
    'x-required-role': endpoint.role,
    tags: [endpoint.tag],
    request: {
      ...(Object.keys(params.shape).length ? { params } : {}),
      ...(Object.keys(query.shape).length ? { query } : {}),
      ...(endpoint.body
        ? { body: { required: true, content: { 'application/json': { schema: endpoint.body } } } }
        : {}),
    },
    responses: responsesOf(endpoint),
  };
}

export function buildOpenApiDocument(list: readonly Endpoint[] = endpoints): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', FUNCTION_KEY, {
    type: 'apiKey',
    in: 'header',
    name: 'x-functions-key',
    description: 'A function key of the app (or pass it as ?code=).',
  });
  registry.registerComponent('securitySchemes', ENTRA, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'LICENSE_SYNC_AUTH=easyauth: an Entra ID session (the page) or an access token for the app (automation, client credentials); app roles LicenseSync.Reader and LicenseSync.Admin.',
  });
  for (const endpoint of list) registry.registerPath(routeOf(endpoint));
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'm365-license-sync',
      version: '1',
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Portal accesses (Microsoft 365 tenants), their sync runs, and the license ledger they keep in line.',
    },
    servers: [{ url: '/' }],
    security: [{ [ENTRA]: [] }, { [FUNCTION_KEY]: [] }],
  });
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  cached ??= buildOpenApiDocument();
  return cached;
}
