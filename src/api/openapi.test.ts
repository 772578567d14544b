import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { registeredFunctions, type HttpDefinition } from '../host/registry';
import { openApiPath } from './endpoint';
import { endpoints } from './endpoints';
import { buildOpenApiDocument } from './openapi';
import { startApi, type ApiHarness } from '../../test/api/harness';
import { responseSchemaOf, validate } from '../../test/api/openapiCheck';

type Doc = Parameters<typeof validate>[0];
type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};

type LintProblem = { severity: 'error' | 'warn'; rule: string; message: string; at: string };

/** Redocly's lint (the rules of redocly.yaml) of a document, in a child process: its library is ESM only. */
function redoclyLint(document: unknown): LintProblem[] {
  const output = execFileSync(process.execPath, [path.join(__dirname, '../../test/api/redoclyLint.mjs')], {
    input: JSON.stringify(document),
    env: { ...process.env, REDOCLY_TELEMETRY: 'off' },
    encoding: 'utf8',
  });
  return JSON.parse(output) as LintProblem[];
}

describe('the OpenAPI document', () => {
  let api: ApiHarness;
  const doc = buildOpenApiDocument() as unknown as Doc & { paths: Record<string, Record<string, Operation>> };
  // Where Microsoft's consent page sends the browser back: a page for people, anonymous and guarded by its state.
  const BROWSER_ROUTES = new Set(['consentCallback']);
  const apiFunctions = () =>
    registeredFunctions().filter(
      (d): d is HttpDefinition => d.kind === 'http' && d.route.startsWith('api/') && !BROWSER_ROUTES.has(d.name),
    );

  beforeAll(async () => {
    api = await startApi();
  });

  it('is served at /api/openapi.json as generated from the schemas', async () => {
    const res = await api.call('openapi');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(res.body.openapi).toMatch(/^3\.1\./);
  });

  it('passes redocly lint with no errors and no warnings', () => {
    expect(redoclyLint(doc)).toEqual([]);
  });

  it('would fail redocly lint with a path parameter the operation does not declare', () => {
    const broken = JSON.parse(JSON.stringify(doc)) as typeof doc;
    delete broken.paths['/api/licenses/{id}']!.get!.parameters;
    expect(redoclyLint(broken)).toContainEqual(
      expect.objectContaining({ severity: 'error', rule: 'path-parameters-defined' }),
    );
  });

  it('lists every API route with its method, and nothing else', () => {
    const registered = apiFunctions()
      .flatMap((d) => d.methods.map((m) => `${m} ${openApiPath(d.route)}`))
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(registered);
    expect(registered).toHaveLength(endpoints.length);
    expect(registered).toEqual(
      expect.arrayContaining([
        'GET /api/portals',
        'POST /api/portals',
        'GET /api/portals/{id}',
        'PATCH /api/portals/{id}',
        'DELETE /api/portals/{id}',
        'POST /api/portals/{id}/verify',
        'POST /api/portals/{id}/sync',
        'GET /api/portals/{id}/runs',
        'GET /api/portals/{id}/runs/{runId}',
        'GET /api/licenses',
        'GET /api/licenses/{id}',
        'GET /api/licenses/{id}/consumers',
        'POST /api/licenses/{id}/consumers',
        'DELETE /api/licenses/{id}/consumers/{contactId}',
        'GET /api/contacts',
        'POST /api/contacts',
        'GET /api/alerts/rules',
        'PUT /api/alerts/rules',
        'GET /api/alerts',
        'GET /api/notifications/channels',
        'POST /api/notifications/channels',
        'DELETE /api/notifications/channels/{id}',
        'POST /api/notifications/channels/{id}/test',
        'GET /api/openapi.json',
        'POST /api/portals/connect',
      ]),
    );
  });

  it('leaves the key check to the host only with LICENSE_SYNC_AUTH=key, and names both schemes', () => {
    // These tests run with the local default (none): the handler authorizes, the host lets requests through.
    for (const definition of apiFunctions())
      expect(`${definition.name}: ${definition.authLevel}`).toBe(`${definition.name}: anonymous`);
    expect(doc).toMatchObject({ security: [{ entra: [] }, { functionKey: [] }] });
  });

  it("states each route's role in its description and in x-required-role", () => {
    for (const endpoint of endpoints) {
      const operation = doc.paths[openApiPath(endpoint.route)]?.[endpoint.method.toLowerCase()] as
        (Operation & { description?: string; 'x-required-role'?: string }) | undefined;
      expect(operation?.['x-required-role']).toBe(endpoint.role);
      expect(operation?.description).toMatch(/Role: /);
      expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('gives every route its request and response schemas', () => {
    for (const endpoint of endpoints) {
      const op = doc.paths[openApiPath(endpoint.route)]![endpoint.method.toLowerCase()]!;
      const pathParams = [...endpoint.route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(
        op.parameters
          ?.filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort() ?? [],
      ).toEqual(pathParams.sort());
      if (endpoint.body) expect(op.requestBody?.content['application/json']?.schema).toBeDefined();
      else expect(op.requestBody).toBeUndefined();
      for (const [status, spec] of Object.entries(endpoint.responses)) {
        const documented = op.responses[status];
        expect(documented).toBeDefined();
        if (spec.schema) expect(documented?.content?.['application/json']?.schema).toBeDefined();
      }
      expect(Object.keys(op.responses).some((s) => s.startsWith('2'))).toBe(true);
      if (endpoint.name !== 'openapi')
        expect(op.responses['400']?.content?.['application/json']?.schema).toEqual({
          $ref: '#/components/schemas/Error',
        });
    }
    expect(doc.paths['/api/portals/{id}/sync']!.post!.parameters?.map((p) => `${p.in}:${p.name}`)).toContain(
      'query:dryRun',
    );
  });

  it('never describes a secret in a response, and its checker catches an undocumented field', () => {
    const portal = doc.components!.schemas!.Portal as { properties: Record<string, unknown> };
    expect(Object.keys(portal.properties)).toEqual(
      expect.arrayContaining(['hasSecret', 'secretSetAt', 'authKind', 'username', 'legacy']),
    );
    for (const hidden of ['clientSecret', 'password', 'certificate', 'deltaLink', 'lastFullReadAt', 'auth']) {
      expect(Object.keys(portal.properties)).not.toContain(hidden);
    }
    const { schema } = responseSchemaOf(doc, '/api/portals/{id}', 'GET', 200);
    const valid = {
      id: 'p1',
      name: 'A',
      tenantId: 'contoso.com',
      clientId: '00000000-0000-0000-0000-000000000000',
      cloud: 'global',
      authKind: 'clientSecret',
      active: true,
      autoSync: true,
      activity: false,
      inactiveDays: 90,
      hasSecret: true,
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-01-01T00:00:00Z',
    };
    expect(validate(doc, schema!, valid)).toEqual([]);
    expect(validate(doc, schema!, { ...valid, clientSecret: 'x' })).toEqual(['$/clientSecret: is not in the schema']);
    expect(validate(doc, schema!, { ...valid, hasSecret: 'yes' })).toEqual(['$/hasSecret: must be boolean']);
  });

  it('has its checker reject a wrong body deep inside a response, through $refs to the components', () => {
    const { schema } = responseSchemaOf(doc, '/api/licenses/{id}/consumers', 'GET', 200);
    const consumer = {
      licenseId: 'l1',
      portalId: 'p1',
      skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
      contactId: 'c1',
      owner: { kind: 'sync', portalId: 'p1' },
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-01-01T00:00:00.123Z',
      contact: { id: 'c1', email: 'ada@contoso.com', displayName: 'Ada' },
    };
    expect(validate(doc, schema!, { items: [consumer, { ...consumer, contact: null }] })).toEqual([]);

    const { contactId: _omitted, ...withoutContactId } = consumer;
    const wrong = [
      withoutContactId,
      { ...consumer, createdAt: 'yesterday' },
      { ...consumer, owner: { kind: 'sync' } },
      { ...consumer, contact: { id: 'c1', email: 'ada@contoso.com', displayName: 'Ada', phone: '1' } },
    ];
    expect(validate(doc, schema!, { items: [consumer, ...wrong] })).toEqual(
      expect.arrayContaining([
        "$/items/1: must have required property 'contactId'",
        '$/items/2/createdAt: must match format "date-time"',
        '$/items/3/owner: must match exactly one schema in oneOf',
        '$/items/4/contact/phone: is not in the schema',
      ]),
    );
    expect(validate(doc, schema!, { items: 'none' })).toEqual(['$/items: must be array']);
    expect(responseSchemaOf(doc, '/api/licenses/{id}/consumers', 'GET', 418)).toEqual({ documented: false });
  });
});
