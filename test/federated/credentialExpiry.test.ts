import { X509Certificate } from 'node:crypto';
import { EXCHANGE_AUDIENCES } from '../../src/graph/federated';
import { startApi, type ApiHarness } from '../api/harness';
import { portalName, startTestTenant, type TestTenant } from '../api/tenant';

/** credentialExpiresAt, and what the federated kind stores (nothing) when a portal is switched to it. */
describe('credential expiry and the federated kind over the API', () => {
  let t: TestTenant;
  let api: ApiHarness;

  beforeAll(async () => {
    t = await startTestTenant();
    api = await startApi({
      authorityHostOverride: t.simulator.authorityHost,
      graphEndpointOverride: t.simulator.graphEndpoint,
    });
    api.settings.federation.multitenantClientId = t.clientId;
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    api.call('portalsCreate', {
      body: { name: portalName(), tenantId: t.tenantId, clientId: t.clientId, auth, ...extra },
    });

  it("shows a certificate's notAfter, read from the PEM when it is saved", async () => {
    const res = await create({ kind: 'certificate', certificate: t.certificatePem });
    expect(res.status).toBe(201);
    const notAfter = new Date(new X509Certificate(t.certificatePem).validTo).toISOString();
    expect(res.body.credentialExpiresAt).toBe(notAfter);
  });

  it("shows a client secret's expiry as the admin entered it, and none without one", async () => {
    const dated = await create({
      kind: 'clientSecret',
      clientSecret: t.clientSecret,
      expiresAt: '2027-03-01T00:00:00Z',
    });
    expect(dated.body.credentialExpiresAt).toBe('2027-03-01T00:00:00.000Z');
    // The expiry is not part of the secret: the stored secret is just the secret.
    expect(await api.services.secrets.get(dated.body.id)).toEqual({
      kind: 'clientSecret',
      clientSecret: t.clientSecret,
    });
    const undated = await create({ kind: 'clientSecret', clientSecret: t.clientSecret });
    expect(undated.body.credentialExpiresAt).toBeUndefined();
    const bad = await create({ kind: 'clientSecret', clientSecret: t.clientSecret, expiresAt: 'next year' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual([expect.objectContaining({ path: 'auth.expiresAt' })]);
  });

  it("needs a client id except for the federated kind, which defaults to the operator's multi-tenant app", async () => {
    const withoutClient = await api.call('portalsCreate', {
      body: { name: portalName(), tenantId: t.tenantId, auth: { kind: 'clientSecret', clientSecret: t.clientSecret } },
    });
    expect(withoutClient.status).toBe(400);
    expect(withoutClient.body.error.fields).toEqual([expect.objectContaining({ path: 'clientId' })]);
    const federated = await api.call('portalsCreate', {
      body: { name: portalName(), tenantId: t.tenantId, auth: { kind: 'federated' } },
    });
    expect(federated.status).toBe(201);
    expect(federated.body).toMatchObject({ clientId: t.clientId, authKind: 'federated', hasSecret: false });
    expect(federated.body.credentialExpiresAt).toBeUndefined();
    expect(await api.services.secrets.get(federated.body.id)).toBeUndefined();
  });

  it('drops the stored secret and its expiry when a portal is switched to the federated kind', async () => {
    const created = await create({
      kind: 'clientSecret',
      clientSecret: t.clientSecret,
      expiresAt: '2027-03-01T00:00:00Z',
    });
    const changed = await api.call('portalsChange', {
      params: { id: created.body.id },
      body: { auth: { kind: 'federated' } },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ authKind: 'federated', hasSecret: false });
    expect(changed.body.secretSetAt).toBeUndefined();
    expect(changed.body.credentialExpiresAt).toBeUndefined();
    expect(await api.services.secrets.get(created.body.id)).toBeUndefined();
  });

  it('moves a federated portal to another tenant only with its kind named again; switching to it counts as new', async () => {
    const federated = await create({ kind: 'federated' });
    const other = '0b9a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
    const moved = await api.call('portalsChange', { params: { id: federated.body.id }, body: { tenantId: other } });
    expect(moved.status).toBe(400);
    expect(moved.body.error.fields).toEqual([expect.objectContaining({ path: 'auth' })]);
    const named = await api.call('portalsChange', {
      params: { id: federated.body.id },
      body: { tenantId: other, auth: { kind: 'federated' } },
    });
    expect(named.status).toBe(200);
    expect(named.body).toMatchObject({ tenantId: other, authKind: 'federated', hasSecret: false });

    const secret = await create({ kind: 'clientSecret', clientSecret: t.clientSecret });
    const switched = await api.call('portalsChange', {
      params: { id: secret.body.id },
      body: { tenantId: other, auth: { kind: 'federated' } },
    });
    expect(switched.status).toBe(200);
    expect(switched.body).toMatchObject({ tenantId: other, clientId: t.clientId, authKind: 'federated' });
    expect(await api.services.secrets.get(secret.body.id)).toBeUndefined();
  });

  it('asks the managed identity for the exchange audience of the cloud', () => {
    expect(EXCHANGE_AUDIENCES).toEqual({
      global: 'api://AzureADTokenExchange',
      usgov: 'api://AzureADTokenExchangeUSGov',
      usgovdod: 'api://AzureADTokenExchangeUSGov',
      china: 'api://AzureADTokenExchangeChina',
      simulated: 'api://AzureADTokenExchange',
    });
  });
});
