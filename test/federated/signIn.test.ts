import { randomUUID } from 'node:crypto';
import { fanOutScheduledRuns } from '../../src/runs/fanout';
import { runSync } from '../../src/sync/runSync';
import { startFederatedWorld, type FederatedWorld } from './harness';

/** Federated portals: they sync like any other kind, and every sign-in failure says what to fix. */
describe('a federated portal', () => {
  let world: FederatedWorld;
  let portalId: string;

  beforeAll(async () => {
    world = await startFederatedWorld();
    // The tenant's admin consented: the multi-tenant app's service principal exists there.
    world.customer.addApp({ clientId: world.multiTenantClientId });
    const created = await world.call('POST', '/api/portals', {
      name: 'Fabrikam federated',
      tenantId: world.customer.tenantId,
      auth: { kind: 'federated' },
    });
    expect(created.status).toBe(201);
    portalId = created.body.id;
  });
  afterAll(async () => {
    await world?.close();
  });

  const verify = (id = portalId) => world.call('POST', `/api/portals/${id}/verify`);
  const fic = () => world.operator.credential();
  const setCredentials = (federatedCredentials: ReturnType<typeof fic>[]) =>
    world.operator.setApp({ federatedCredentials });

  it("defaults to the operator's multi-tenant app and shows no secret", async () => {
    const portal = (await world.call('GET', `/api/portals/${portalId}`)).body;
    expect(portal).toMatchObject({ clientId: world.multiTenantClientId, authKind: 'federated', hasSecret: false });
    expect(await world.app.services.secrets.get(portalId)).toBeUndefined();
  });

  it('verifies, previews and syncs, reusing one managed identity token', async () => {
    world.simulator.resetCounts();
    expect((await verify()).status).toBe(200);
    const preview = await world.call('POST', `/api/portals/${portalId}/sync?dryRun=true`);
    expect(preview.status).toBe(200);
    expect(preview.body.plan.counts).toMatchObject({ plansRead: 2, usersRead: 2, licensesCreated: 2 });
    expect(await world.app.services.ledger.licenses.list(portalId)).toEqual([]);

    const queued = await world.call('POST', `/api/portals/${portalId}/sync`);
    expect(queued.status).toBe(202);
    const run = await world.lastRunOf(portalId, queued.body.runId);
    expect(run).toMatchObject({ status: 'succeeded', counts: expect.objectContaining({ consumersAdded: 3 }) });
    // Three sign-ins, one managed identity token: it is cached until shortly before it expires.
    expect(world.simulator.requestCount('/msi/token')).toBeLessThanOrEqual(1);
    expect(world.simulator.requestCount(/\/oauth2\/v2\.0\/token$/, world.customer.tenantId)).toBe(3);
  });

  it('runs on the schedule like any other kind', async () => {
    world.customer.addUser({
      displayName: 'Katherine Johnson',
      userPrincipalName: 'katherine@fabrikam.example',
      licenses: [{ sku: 'POWER_BI_PRO' }],
    });
    const { messages } = await fanOutScheduledRuns(world.app.services);
    const message = messages.find((m) => m.portalId === portalId)!;
    const run = await runSync(world.app.services, message, { dequeueCount: 1, maxDequeueCount: 5 });
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'schedule' });
    expect(run.counts.consumersAdded).toBe(1);
  });

  it('says the app is not consented in a tenant without its service principal (AADSTS700016)', async () => {
    const other = world.simulator.addTenant({ displayName: 'Unconsented', plans: [{ skuPartNumber: 'SPB' }] });
    const created = await world.call('POST', '/api/portals', {
      name: 'Unconsented',
      tenantId: other.tenantId,
      auth: { kind: 'federated' },
    });
    const res = await verify(created.body.id);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('app_not_consented');
    expect(res.body.error.message).toContain('Connect a tenant');
  });

  it('says the app is not consented when Entra answers AADSTS65001', async () => {
    world.customer.fail({ kind: 'signIn', code: 65001 });
    const res = await verify();
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('app_not_consented');
  });

  it("names the managed identity's object id and issuer when no federated credential matches (AADSTS70021)", async () => {
    setCredentials([]);
    try {
      world.simulator.resetCounts();
      const res = await verify();
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('federated_credential_missing');
      expect(res.body.error.message).toContain(`subject ${world.identity.objectId}`);
      expect(res.body.error.message).toContain(`issuer ${world.simulator.identityIssuer(world.homeTenantId)}`);
      expect(res.body.error.message).toContain('propagating');
      // Asked again a few times in case the credential was just created.
      expect(world.simulator.requestCount(/\/oauth2\/v2\.0\/token$/, world.customer.tenantId)).toBe(4);
    } finally {
      setCredentials([fic()]);
    }
  });

  it('names the object id to put in when the subject is wrong (AADSTS700213), from the setting when given', async () => {
    setCredentials([{ ...fic(), subject: randomUUID() }]);
    const configured = randomUUID();
    world.app.settings.federation.identityObjectId = configured;
    try {
      const res = await verify();
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('federated_subject_mismatch');
      expect(res.body.error.message).toContain(`subject ${configured}`);
    } finally {
      world.app.settings.federation.identityObjectId = undefined;
      setCredentials([fic()]);
    }
  });

  it('signs in once a just-created federated credential has propagated', async () => {
    setCredentials([{ ...fic(), activeAt: Date.now() + 50 }]);
    world.simulator.resetCounts();
    const res = await verify();
    expect(res.status).toBe(200);
    expect(world.simulator.requestCount(/\/oauth2\/v2\.0\/token$/, world.customer.tenantId)).toBeGreaterThan(1);
  });

  it('says the managed identity is not configured: no endpoint, no setting, or an identity the platform lacks', async () => {
    const federation = world.app.settings.federation;
    const saved = { ...federation };
    try {
      federation.identityEndpointAvailable = false;
      let res = await verify();
      expect(res.body.error).toMatchObject({ code: 'managed_identity_unavailable' });
      expect(res.body.error.message).toContain('IDENTITY_ENDPOINT');
      federation.identityEndpointAvailable = true;

      federation.identityClientId = undefined;
      res = await verify();
      expect(res.body.error).toMatchObject({ code: 'managed_identity_unavailable' });
      expect(res.body.error.message).toContain('LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID');

      federation.identityClientId = randomUUID();
      res = await verify();
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'managed_identity_unavailable' });
      expect(res.body.error.message).toContain('No User Assigned');
    } finally {
      Object.assign(federation, saved);
    }
  });

  it('records the error of a failed run like other kinds', async () => {
    setCredentials([]);
    try {
      const queued = await world.call('POST', `/api/portals/${portalId}/sync`);
      expect(queued.status).toBe(202);
      const run = await world.lastRunOf(portalId, queued.body.runId);
      expect(run).toMatchObject({ status: 'failed', errorCode: 'federated_credential_missing' });
    } finally {
      setCredentials([fic()]);
    }
  });
});
