import {
  OpenAPIRegistry,
  OpenApiGeneratorV3,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import type { ZodObject } from 'zod';
import { openApiPath, type Endpoint, type ResponseSpec } from './endpoint';
import { endpoints } from './endpoints';
import { csvFileSchema, isListEndpoint } from './lists';
import { errorResponseSchema } from './schemas';

/**
 * The OpenAPI 3 document of the HTTP API, generated from the endpoint list and its zod schemas (the same ones
 * the handlers parse with), so the description cannot drift from the code. Built once per process.
 */

type OpenApiDocument = ReturnType<OpenApiGeneratorV3['generateDocument']>;

const FUNCTION_KEY = 'functionKey';

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
        'The function key is missing or wrong (x-functions-key header or ?code=). Azure answers without a body.',
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
    ...(endpoint.description ? { description: endpoint.description } : {}),
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
  for (const endpoint of list) registry.registerPath(routeOf(endpoint));
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'm365-license-sync',
      version: '1',
      description:
        'Portal accesses (Microsoft 365 tenants), their sync runs, and the license ledger they keep in line.',
    },
    servers: [{ url: '/' }],
    security: [{ [FUNCTION_KEY]: [] }],
  });
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  cached ??= buildOpenApiDocument();
  return cached;
}
