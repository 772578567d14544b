import { parse } from 'csv-parse/sync';
import { randomUUID } from 'node:crypto';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { ADMIN_ROLE, encodeClientPrincipal, parseClientPrincipal, READER_ROLE } from '../auth/principal';
import { loadSettings, SettingsError } from '../config/settings';
import { registeredFunctions, type HttpDefinition } from '../host/registry';
import { newTableClient } from '../storage/clients';
import { mapConcurrent } from '../util/async';
import { endpoints } from './endpoints';
import { expectNoSecrets, startApi, type ApiHarness } from '../../test/api/harness';
import { portalBody, portalName, startTestTenant, type TestTenant } from '../../test/api/tenant';

/** Who may do what, through the real routes with LICENSE_SYNC_AUTH=easyauth; and the audit trail they leave. */

const ADA = { name: 'ada@contoso.example', objectId: randomUUID(), roles: [ADMIN_ROLE] };
const RITA = { name: 'rita@contoso.example', objectId: randomUUID(), roles: [READER_ROLE] };
const NOBODY = { name: 'nobody@contoso.example', objectId: randomUUID(), roles: [] as string[] };
const as = (principal: { name: string; objectId?: string; roles: string[] }) => ({
  'x-ms-client-principal': encodeClientPrincipal(principal),
});

/** Path values of the right shape: the role check comes first, so what they name need not exist. */
const PARAMS: Record<string, string> = { id: 'p1', runId: 'r1', contactId: 'c1' };
const paramsOf = (route: string) =>
  Object.fromEntries(
    [...route.matchAll(/\{(\w+)\}/g)].map(([, name]) => [
      name!,
      name === 'id' && route.startsWith('api/licenses') ? 'p1.s1' : (PARAMS[name!] ?? 'x'),
    ]),
  );

/** The one route without a role: Microsoft's consent page sends the browser back there (guarded by its state). */
const PAGE_ROUTES = ['consentCallback'];
const httpFunctions = () =>
  registeredFunctions().filter((d): d is HttpDefinition => d.kind === 'http' && d.route.startsWith('api/'));
const apiFunctions = () => httpFunctions().filter((d) => !PAGE_ROUTES.includes(d.name));

/** Calls a page route the way the host does (the harness checks API answers against the OpenAPI document). */
async function callPage(name: string, query: string, headers: Record<string, string> = {}) {
  const definition = httpFunctions().find((d) => d.name === name)!;
  const init = await definition.handler(
    new HttpRequest({ method: 'GET', url: `https://localhost:7071/${definition.route}${query}`, headers }),
    new InvocationContext({ invocationId: randomUUID(), functionName: name }),
  );
  const response = init instanceof HttpResponse ? init : new HttpResponse(init);
  return { status: response.status, text: await response.text() };
}

describe('who may do what (LICENSE_SYNC_AUTH=easyauth)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ auth: 'easyauth' });
  });

  it('gives every registered API route a role, so a new route without one fails here', () => {
    const byName = new Map(endpoints.map((e) => [e.name, e]));
    // The only route without a role is the consent callback page, and it is not an API endpoint.
    expect(
      httpFunctions()
        .filter((fn) => !byName.has(fn.name))
        .map((fn) => fn.name),
    ).toEqual(PAGE_ROUTES);
    for (const fn of apiFunctions()) {
      expect(`${fn.name}: ${byName.get(fn.name)?.role ?? 'no role'}`).toMatch(/: (SignedIn|Reader|Admin)$/);
    }
    // Reads are Reader, changes and runs Admin (PRODUCT.md); only /api/me is open to any signed-in principal.
    for (const e of endpoints) {
      expect(`${e.name}: ${e.role}`).toBe(
        `${e.name}: ${e.name === 'me' ? 'SignedIn' : e.method === 'GET' ? 'Reader' : 'Admin'}`,
      );
    }
  });

  const cases = [
    { who: 'nobody signed in', headers: {}, allowed: () => false, refusal: 401 },
    { who: 'signed in without a role', headers: as(NOBODY), allowed: (r: string) => r === 'SignedIn', refusal: 403 },
    { who: 'a Reader', headers: as(RITA), allowed: (r: string) => r !== 'Admin', refusal: 403 },
    { who: 'an Admin', headers: as(ADA), allowed: () => true, refusal: 403 },
  ];
  describe.each(cases)('$who', ({ headers, allowed, refusal }) => {
    it.each(apiFunctions().map((fn) => [fn.name, fn] as const))('%s', async (name, fn) => {
      const endpoint = endpoints.find((e) => e.name === name)!;
      const res = await api.call(name, { params: paramsOf(fn.route), headers });
      if (allowed(endpoint.role)) {
        expect([401, 403]).not.toContain(res.status);
      } else {
        expect(res.status).toBe(refusal);
        expect(res.body.error.code).toBe(refusal === 401 ? 'unauthenticated' : 'forbidden');
      }
    });
  });

  it('lets the consent callback through without a principal, to its own state check (a 400 page)', async () => {
    for (const headers of [{}, as(NOBODY)]) {
      const res = await callPage('consentCallback', '?admin_consent=True&tenant=x&state=forged', headers);
      expect(res.status).toBe(400);
      expect(res.text).toContain('does not belong to any');
    }
  });

  it('tells the page who is signed in', async () => {
    const me = await api.call('me', { headers: as(RITA) });
    expect(me.body).toEqual({ name: RITA.name, objectId: RITA.objectId, roles: [READER_ROLE], authMode: 'easyauth' });
    const none = await api.call('me', { headers: as(NOBODY) });
    expect(none.body.roles).toEqual([]);
  });

  it('refuses a header that is not a client principal (401), e.g. plain JSON or a forged claim list', async () => {
    for (const value of ['not base64 {', Buffer.from('{"claims":"x"}').toString('base64'), 'e30=']) {
      const res = await api.call('portalsList', { headers: { 'x-ms-client-principal': value } });
      expect(res.status).toBe(401);
    }
  });
});

describe('the client principal', () => {
  it('takes roles from role_typ claims and from `roles` claims (v2.0 tokens)', () => {
    const header = Buffer.from(
      JSON.stringify({
        auth_typ: 'aad',
        name_typ: 'name',
        role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
        claims: [
          { typ: 'name', val: 'Automation' },
          { typ: 'oid', val: 'o-1' },
          { typ: 'roles', val: ADMIN_ROLE },
          { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: READER_ROLE },
          { typ: 'groups', val: 'LicenseSync.Admin-lookalike' },
        ],
      }),
    ).toString('base64');
    expect(parseClientPrincipal(header)).toEqual({
      name: 'Automation',
      objectId: 'o-1',
      roles: [ADMIN_ROLE, READER_ROLE],
    });
  });
});

describe('LICENSE_SYNC_AUTH key and none', () => {
  it.each(['key', 'none'] as const)('%s: every caller is an admin, named for the audit trail', async (mode) => {
    const api = await startApi({ auth: mode });
    const me = await api.call('me');
    expect(me.body).toEqual({
      name: mode === 'key' ? 'function key' : 'local',
      roles: [ADMIN_ROLE],
      authMode: mode,
    });
    expect((await api.call('portalsDelete', { params: { id: 'nope' } })).status).toBe(404);
    expect((await callPage('consentCallback', '')).text).toContain('carried no state');
  });

  it('key: every API route stays behind the function key; only the consent callback is anonymous at the host', () => {
    const saved = process.env.LICENSE_SYNC_AUTH;
    process.env.LICENSE_SYNC_AUTH = 'key';
    try {
      jest.isolateModules(() => {
        // A fresh registry: the function files register again, reading the mode as the host would.
        /* eslint-disable @typescript-eslint/no-require-imports */
        require('../../functions/portals');
        require('../../functions/consent');
        const fresh = require('../host/registry') as { registeredFunctions: typeof registeredFunctions };
        /* eslint-enable @typescript-eslint/no-require-imports */
        const levels = fresh
          .registeredFunctions()
          .filter((d): d is HttpDefinition => d.kind === 'http')
          .map((d) => `${d.name}: ${d.authLevel}`);
        expect(levels).toContain('consentCallback: anonymous');
        expect(levels).toContain('portalsConnect: function');
        expect(levels.filter((level) => level.endsWith('anonymous'))).toEqual(['consentCallback: anonymous']);
      });
    } finally {
      if (saved === undefined) delete process.env.LICENSE_SYNC_AUTH;
      else process.env.LICENSE_SYNC_AUTH = saved;
    }
  });

  it('refuses none when the app runs in Azure, and defaults to easyauth there', () => {
    expect(() => loadSettings({ WEBSITE_INSTANCE_ID: 'abc', LICENSE_SYNC_AUTH: 'none' })).toThrow(SettingsError);
    expect(loadSettings({ WEBSITE_INSTANCE_ID: 'abc' }).auth).toBe('easyauth');
    expect(loadSettings({}).auth).toBe('none');
    expect(() => loadSettings({ LICENSE_SYNC_AUTH: 'open' })).toThrow(SettingsError);
  });
});

describe('the audit trail', () => {
  let t: TestTenant;
  let api: ApiHarness;
  const admin = as(ADA);
  const reader = as(RITA);
  let portalId: string;

  beforeAll(async () => {
    t = await startTestTenant();
    api = await startApi({
      auth: 'easyauth',
      simulator: { authorityHost: t.simulator.authorityHost, graphEndpoint: t.simulator.graphEndpoint },
    });
    const created = await api.call('portalsCreate', {
      headers: admin,
      body: portalBody(t, {}, portalName('Audited')),
    });
    expect(created.status).toBe(201);
    portalId = created.body.id;
    const changed = await api.call('portalsChange', {
      headers: admin,
      params: { id: portalId },
      body: { autoSync: false, auth: { kind: 'clientSecret', clientSecret: t.otherClientSecret } },
    });
    expect(changed.status).toBe(200);
    expect((await api.call('portalsSync', { headers: admin, params: { id: portalId } })).status).toBe(202);
    const contact = await api.call('contactsCreate', {
      headers: admin,
      body: { email: `grace-${randomUUID()}@contoso.example`, displayName: 'Grace' },
    });
    expect(contact.status).toBe(201);
    expect((await api.call('portalsVerify', { headers: admin, params: { id: portalId } })).status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('records each change with who, what and when, newest first; a verify is no change', async () => {
    const res = await api.call('auditList', { headers: reader });
    expect(res.status).toBe(200);
    expect(res.body.items.map((item: { action: string }) => item.action)).toEqual([
      'contact.create',
      'run.start',
      'portal.change',
      'portal.create',
    ]);
    for (const item of res.body.items) {
      expect(item.principal).toEqual({ name: ADA.name, objectId: ADA.objectId });
      expect(Date.parse(item.at)).not.toBeNaN();
    }
    expect(res.body.items[2]).toMatchObject({
      target: `portals/${portalId}`,
      summary: expect.stringContaining('credential=clientSecret (new)'),
    });
    expect(res.body.continuationToken).toBeUndefined();
  });

  it('never stores or shows a credential', async () => {
    const rows: string[] = [];
    for await (const row of newTableClient(api.settings, 'audit').listEntities()) rows.push(JSON.stringify(row));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expectNoSecrets({ rows, bodies: api.bodies, logs: api.logs }, t.secrets);
  });

  it('pages with limit and continuationToken, without repeating or skipping an entry', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await api.call('auditList', {
        headers: reader,
        query: `?limit=3${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((item: { action: string }) => item.action));
      token = res.body.continuationToken;
      pages += 1;
    } while (token && pages < 5);
    expect(pages).toBe(2);
    expect(seen).toEqual(['contact.create', 'run.start', 'portal.change', 'portal.create']);
  });

  it('filters by from and to (dates or date-times) and refuses bad ones', async () => {
    const all = (await api.call('auditList', { headers: reader })).body.items as { at: string; action: string }[];
    const today = all[0]!.at.slice(0, 10);
    const q = async (query: string) => api.call('auditList', { headers: reader, query });
    expect((await q(`?from=${today}&to=${today}`)).body.items).toHaveLength(all.length);
    expect((await q('?to=2000-01-01')).body.items).toEqual([]);
    expect((await q('?from=2999-01-01T00:00:00Z')).body.items).toEqual([]);
    const middle = all[1]!.at;
    expect((await q(`?to=${encodeURIComponent(middle)}`)).body.items.map((i: { at: string }) => i.at)).not.toContain(
      middle,
    );
    expect((await q(`?from=${encodeURIComponent(middle)}`)).body.items.map((i: { at: string }) => i.at)).toContain(
      middle,
    );
    for (const bad of [
      '?from=yesterday',
      '?limit=0',
      '?limit=1001',
      '?continuationToken=abc',
      '?from=2026-02-01&to=2026-01-01',
    ]) {
      expect((await q(bad)).status).toBe(400);
    }
  });

  it('records a deletion with purge under its own action', async () => {
    const res = await api.call('portalsDelete', { headers: admin, params: { id: portalId }, query: '?purge=true' });
    expect(res.status).toBe(204);
    const [latest] = (await api.call('auditList', { headers: reader, query: '?limit=1' })).body.items;
    expect(latest).toMatchObject({ action: 'portal.purge', target: `portals/${portalId}` });
  });

  it('exports the whole trail as CSV, every page from the first whatever limit and continuationToken say', async () => {
    // More entries than one export page (1,000), from 2020 so they sort after the changes above.
    const OLD = 1001;
    const start = Date.parse('2020-01-01T00:00:00Z');
    await mapConcurrent([...Array(OLD).keys()], 16, (i) =>
      api.services.audit.record({
        at: new Date(start + i * 1000).toISOString(),
        principal: { name: 'importer' },
        action: 'contact.create',
        target: `contacts/c${i}`,
        summary: i === 0 ? '=HYPERLINK("https://evil.example")' : `entry ${i}`,
      }),
    );
    const first = await api.call('auditList', { headers: reader, query: '?limit=2' });
    const csv = await api.call('auditList', {
      headers: reader,
      query: `?format=csv&limit=2&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(csv.headers.get('x-content-type-options')).toBe('nosniff');
    const rows = parse<Record<string, string>>(csv.text, { bom: true, columns: true });
    expect(rows).toHaveLength(OLD + 5);
    expect(rows.slice(0, 5).map((row) => row.action)).toEqual([
      'portal.purge',
      'contact.create',
      'run.start',
      'portal.change',
      'portal.create',
    ]);
    expect(new Set(rows.slice(5).map((row) => row.target)).size).toBe(OLD);
    expect(rows.at(-1)).toMatchObject({ 'principal.name': 'importer', summary: `'=HYPERLINK("https://evil.example")` });
    const in2020 = await api.call('auditList', { headers: reader, query: '?format=csv&from=2020-01-01&to=2020-12-31' });
    expect(parse(in2020.text, { bom: true, columns: true })).toHaveLength(OLD);
  });
});
