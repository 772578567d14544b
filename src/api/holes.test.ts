import { startApi, type ApiHarness } from '../../test/api/harness';
import { portalBody, portalName, startTestTenant, type TestTenant } from '../../test/api/tenant';

/** Holes a security review found in the HTTP API, each reproduced through the real routes. */

describe('holes in the HTTP API', () => {
  let t: TestTenant;
  let api: ApiHarness;
  const body = (overrides: Record<string, unknown> = {}) => portalBody(t, overrides);
  const paths = (res: { body: { error: { fields?: { path: string }[] } } }) =>
    (res.body.error.fields ?? []).map((f) => f.path);

  beforeAll(async () => {
    t = await startTestTenant();
    api = await startApi({
      simulator: { authorityHost: t.simulator.authorityHost, graphEndpoint: t.simulator.graphEndpoint },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('bodies are JSON only', () => {
    it.each([
      ['no content type', ''],
      ['text/plain (what a cross-site form sends)', 'text/plain'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['a JSON look-alike', 'application/x-evil+json'],
    ])('refuses %s with 415', async (_what, type) => {
      const res = await api.call('portalsCreate', {
        body: JSON.stringify(body()),
        headers: { 'content-type': type },
      });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('unsupported_media_type');
    });

    it('accepts application/json with a charset', async () => {
      const res = await api.call('portalsCreate', {
        body: JSON.stringify(body()),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(res.status).toBe(201);
    });
  });

  describe('changes from another site', () => {
    it('refuses a write whose Origin is another site (403), and one marked cross-site by the browser', async () => {
      const evil = await api.call('portalsCreate', { body: body(), headers: { origin: 'https://evil.example' } });
      expect(evil.status).toBe(403);
      expect(evil.body.error.code).toBe('cross_site_request');
      const nullOrigin = await api.call('portalsSync', { params: { id: 'p1' }, headers: { origin: 'null' } });
      expect(nullOrigin.status).toBe(403);
      const fetchSite = await api.call('portalsDelete', {
        params: { id: 'p1' },
        headers: { 'sec-fetch-site': 'cross-site' },
      });
      expect(fetchSite.status).toBe(403);
    });

    it("accepts a write from the app's own origin, and reads from anywhere", async () => {
      const own = await api.call('portalsCreate', { body: body(), headers: { origin: 'https://localhost:7071' } });
      expect(own.status).toBe(201);
      const read = await api.call('portalsList', { headers: { origin: 'https://evil.example' } });
      expect(read.status).toBe(200);
    });
  });

  describe('text that is not what it looks like', () => {
    it('refuses a name with a lone surrogate (400 naming the field, not a 500)', async () => {
      const json = JSON.stringify(body()).replace(/"name":"[^"]*"/, '"name":"Contoso \\ud800"');
      const res = await api.call('portalsCreate', { body: json });
      expect(res.status).toBe(400);
      expect(paths(res)).toEqual(['name']);
    });

    it('refuses a lone surrogate in any field, a secret included', async () => {
      const json = JSON.stringify(body()).replace(/"clientSecret":"[^"]*"/, '"clientSecret":"abc\\udfff"');
      const res = await api.call('portalsCreate', { body: json });
      expect(res.status).toBe(400);
      expect(paths(res)).toEqual(['auth.clientSecret']);
    });

    it.each(['\u202e', '\u202a', '\u2066', '\u2069', '\u200e', '\u200f'])(
      'refuses the bidirectional control U+%#-th in portal and contact names',
      async (control) => {
        const portal = await api.call('portalsCreate', { body: body({ name: `Contoso${control}gnp.exe` }) });
        expect(portal.status).toBe(400);
        expect(paths(portal)).toEqual(['name']);
        const contact = await api.call('contactsCreate', {
          body: { email: 'bidi@contoso.example', displayName: `Ada ${control}Lovelace` },
        });
        expect(contact.status).toBe(400);
        expect(paths(contact)).toEqual(['displayName']);
      },
    );

    it('keeps accepting names in other scripts', async () => {
      const res = await api.call('portalsCreate', { body: body({ name: `${portalName()} שלום 日本 🚀` }) });
      expect(res.status).toBe(201);
    });
  });

  describe('moving a portal to another tenant, app or cloud', () => {
    it.each([
      ['tenantId', () => ({ tenantId: 'other.onmicrosoft.com' })],
      ['clientId', () => ({ clientId: '11111111-2222-3333-4444-555555555555' })],
      ['cloud', () => ({ cloud: 'usgov' })],
    ])('needs the credential again when %s changes (400 naming auth)', async (_field, change) => {
      const created = await api.call('portalsCreate', { body: body() });
      const res = await api.call('portalsChange', { params: { id: created.body.id }, body: change() });
      expect(res.status).toBe(400);
      expect(paths(res)).toEqual(['auth']);
      const withAuth = await api.call('portalsChange', {
        params: { id: created.body.id },
        body: { ...change(), auth: { kind: 'clientSecret', clientSecret: t.otherClientSecret } },
      });
      expect(withAuth.status).toBe(200);
    });

    it('does not need it when the same values are sent again (the edit form sends every field)', async () => {
      const created = await api.call('portalsCreate', { body: body() });
      const res = await api.call('portalsChange', {
        params: { id: created.body.id },
        body: { name: created.body.name, tenantId: t.tenantId.toUpperCase(), clientId: t.clientId, cloud: 'simulated' },
      });
      expect(res.status).toBe(200);
    });
  });

  it('sends X-Content-Type-Options: nosniff on answers with and without a body', async () => {
    const created = await api.call('portalsCreate', { body: body() });
    expect(created.status).toBe(201);
    const responses = await Promise.all([
      api.call('portalsList'),
      api.call('portalsGet', { params: { id: 'missing' } }),
      api.call('portalsDelete', { params: { id: created.body.id } }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 404, 204]);
    for (const r of responses) expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
