import type { HttpMethod } from '@azure/functions';
import type { z } from 'zod';
import type { Access, Principal } from '../auth/principal';

/**
 * One HTTP API route: its method and path, the zod schemas of its path parameters, query and body, and its
 * responses. The handler (src/api/http.ts) parses with these, and the OpenAPI document (src/api/openapi.ts) is
 * generated from the same objects, so the two cannot drift apart.
 */
export interface ResponseSpec {
  description: string;
  /** Absent for a response without a body (204). */
  schema?: z.ZodType;
}

export interface Endpoint<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  /** The function name in the Functions host. */
  name: string;
  method: Extract<HttpMethod, 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'>;
  /** The route as Azure Functions reads it (host.json's routePrefix is ""), e.g. `api/portals/{id}`. */
  route: string;
  summary: string;
  description?: string;
  tag: string;
  /**
   * Who may call it (PRODUCT.md, "Who may do what"): reads need Reader, changes and runs Admin, `SignedIn` any
   * signed-in principal. Checked by src/api/http.ts before the input is parsed.
   */
  role: Access;
  params: P;
  query: Q;
  body: B;
  /** Success and the errors this route can answer (400, 404, 409, ...); 500 and 413 apply to all. */
  responses: Record<number, ResponseSpec>;
}

export interface EndpointInput<E extends Endpoint> {
  /** Who calls (for the audit trail). */
  principal: Principal;
  params: z.output<E['params']>;
  query: z.output<E['query']>;
  body: E['body'] extends z.ZodType ? z.output<E['body']> : undefined;
}

export function defineEndpoint<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType | undefined = undefined>(
  endpoint: Endpoint<P, Q, B>,
): Endpoint<P, Q, B> {
  return endpoint;
}

/** `api/portals/{id}` -> `/api/portals/{id}` (OpenAPI paths start with a slash). */
export function openApiPath(route: string): string {
  return `/${route.replace(/^\/+/, '')}`;
}
