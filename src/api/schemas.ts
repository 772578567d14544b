/**
 * Every shape the HTTP API reads or writes, once. Handlers parse with these, responses are parsed through them
 * (objects strip what a schema does not list, so internal fields never leave), and the OpenAPI document is
 * generated from them (src/api/openapi.ts). `meta({ id })` names a schema in the document's components.
 * The building blocks are in fields.ts; the shapes of each group of routes in their own module.
 */
export * from './fields';
export * from './portalSchemas';
export * from './ledgerSchemas';
