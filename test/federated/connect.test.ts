import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_ROLE, encodeClientPrincipal, READER_ROLE } from '../../src/auth/principal';
import { getTableClient, TABLES } from '../../src/storage/clients';
import { startFederatedWorld, type FederatedWorld } from './harness';

/** "Connect a tenant" end to end: the API, the simulated consent page, the callback, the first run. */
describe('connecting a tenant', () => {
  let world: FederatedWorld;

  beforeAll(async () => {
    world = await startFederatedWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  async function connect(name: string, cloud?: string) {
    const res = await world.call('POST', '/api/portals/connect', { name, ...(cloud ? { cloud } : {}) });
    expect(res.status).toBe(200);
    return res.body as { consentUrl: string; expiresAt: string };
  }

  it('answers the admin-consent URL of the multi-tenant app, with the redirect from the settings', async () => {
    const before = Date.now();
    const { consentUrl, expiresAt } = await connect('Consent URL check');
    const url = new URL(consentUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${world.simulator.authorityHost}/organizations/v2.0/adminconsent`);
    expect(url.searchParams.get('client_id')).toBe(world.multiTenantClientId);
    expect(url.searchParams.get('scope')).toBe(`${world.simulator.graphEndpoint}/.default`);
    expect(url.searchParams.get('redirect_uri')).toBe(`${world.app.url}/api/consent/callback`);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const ttl = Date.parse(expiresAt) - before;
    expect(ttl).toBeGreaterThan(59 * 60_000);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000 + 1_000);
  });

  it('creates a federated portal for the consenting tenant, verifies it, queues its first run and syncs it', async () => {
    const { consentUrl } = await connect('Fabrikam');
    world.simulator.answerConsent({ tenantId: world.customer.tenantId });
    const back = await world.consent(consentUrl);
    expect(back.status).toBe(302);
    const id = /^\/#\/portals\/([A-Za-z0-9_-]+)$/.exec(back.location ?? '')?.[1];
    expect(id).toBeDefined();

    const portal = (await world.call('GET', `/api/portals/${id}`)).body;
    expect(portal).toMatchObject({
      name: 'Fabrikam',
      tenantId: world.customer.tenantId,
      clientId: world.multiTenantClientId,
      authKind: 'federated',
      hasSecret: false,
      active: true,
      autoSync: true,
    });
    expect(portal.secretSetAt).toBeUndefined();
    expect(portal.credentialExpiresAt).toBeUndefined();
    // Verified: the plans were read before the redirect, through a managed identity token.
    expect(world.simulator.requestCount('/msi/token')).toBeGreaterThan(0);

    const run = await world.lastRunOf(id!);
    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({ plansRead: 2, usersRead: 2, licensesCreated: 2, consumersAdded: 3 });
    const licenses = (await world.call('GET', `/api/licenses?portalId=${id}`)).body.items;
    expect(licenses.map((l: { skuPartNumber: string }) => l.skuPartNumber).sort()).toEqual([
      'ENTERPRISEPACK',
      'POWER_BI_PRO',
    ]);

    // No secret anywhere: not in the secret store, not in the portal's row.
    expect(await world.app.services.secrets.get(id!)).toBeUndefined();
    const store = await readFile(path.join(world.app.settings.dataDir, 'secrets.json'), 'utf8').catch(() => '');
    expect(store).not.toContain(id!);
    const portals = await getTableClient(world.app.settings, TABLES.portals);
    const row = await portals.getEntity('portal', id!);
    expect(Object.keys(row).filter((key) => /secret|password|certificate|assertion|token/i.test(key))).toEqual([
      'hasSecret',
    ]);
    expect(row.hasSecret).toBe(false);
  });

  it('keeps only a hash of the state in table storage', async () => {
    const { consentUrl } = await connect('Hashed state');
    const state = new URL(consentUrl).searchParams.get('state')!;
    const table = await getTableClient(world.app.settings, TABLES.consentStates);
    const rows = [];
    for await (const entity of table.listEntities()) rows.push(JSON.stringify(entity));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.join('\n')).not.toContain(state);
  });

  it('refuses a replayed state with a readable page and creates nothing more', async () => {
    const { consentUrl } = await connect('Replayed');
    world.simulator.answerConsent({ tenantId: world.customer.tenantId });
    const page = await fetch(consentUrl, { redirect: 'manual' });
    const callbackUrl = page.headers.get('location')!;
    const first = await fetch(callbackUrl, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const count = (await world.app.services.ledger.portals.list()).length;
    const again = await fetch(callbackUrl, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(again.headers.get('content-type')).toMatch(/text\/html/);
    expect(await again.text()).toContain('already been used');
    expect((await world.app.services.ledger.portals.list()).length).toBe(count);
  });

  it('refuses a forged, a missing and an expired state', async () => {
    const forged = await world.call(
      'GET',
      `/api/consent/callback?admin_consent=True&tenant=${world.customer.tenantId}&state=forged-state-value`,
    );
    expect(forged.status).toBe(400);
    expect(forged.text).toContain('does not belong to any');
    const missing = await world.call(
      'GET',
      `/api/consent/callback?admin_consent=True&tenant=${world.customer.tenantId}`,
    );
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('carried no state');

    const { consentUrl } = await connect('Expired');
    const state = new URL(consentUrl).searchParams.get('state')!;
    const realNow = world.app.services.now;
    try {
      world.app.services.now = () => new Date(Date.now() + 61 * 60_000);
      const expired = await world.call(
        'GET',
        `/api/consent/callback?admin_consent=True&tenant=${world.customer.tenantId}&state=${encodeURIComponent(state)}`,
      );
      expect(expired.status).toBe(400);
      expect(expired.text).toContain('has expired');
    } finally {
      world.app.services.now = realNow;
    }
    const names = (await world.app.services.ledger.portals.list()).map((p) => p.name);
    expect(names).not.toContain('Expired');
  });

  it("shows Microsoft's reason when the admin refuses, and an error wins over admin_consent=True", async () => {
    const { consentUrl } = await connect('Refused');
    world.simulator.answerConsent({
      error: 'access_denied',
      errorDescription: 'AADSTS65004: User declined to consent to access the app.',
    });
    const refused = await world.consent(consentUrl);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('User declined to consent');

    const second = await connect('Both');
    const state = new URL(second.consentUrl).searchParams.get('state')!;
    const both = await world.call(
      'GET',
      `/api/consent/callback?admin_consent=True&tenant=${world.customer.tenantId}&error=consent_required&error_description=${encodeURIComponent('AADSTS65001: consent is missing')}&state=${encodeURIComponent(state)}`,
    );
    expect(both.status).toBe(400);
    expect(both.text).toContain('AADSTS65001: consent is missing');
    const names = (await world.app.services.ledger.portals.list()).map((p) => p.name);
    expect(names).not.toEqual(expect.arrayContaining(['Refused']));
    expect(names).not.toContain('Both');
  });

  it('creates nothing for a tenant that never consented (a forged tenant)', async () => {
    const stranger = world.simulator.addTenant({ displayName: 'Stranger', plans: [{ skuPartNumber: 'SPB' }] });
    const { consentUrl } = await connect('Stranger');
    const state = new URL(consentUrl).searchParams.get('state')!;
    const res = await world.call(
      'GET',
      `/api/consent/callback?admin_consent=True&tenant=${stranger.tenantId}&state=${encodeURIComponent(state)}`,
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain(`no consent in tenant ${stranger.tenantId}`);
    const names = (await world.app.services.ledger.portals.list()).map((p) => p.name);
    expect(names).not.toContain('Stranger');
  });

  it('refuses to start without a multi-tenant app, and a taken name', async () => {
    const taken = await world.call('POST', '/api/portals/connect', { name: 'fabrikam' });
    expect(taken.status).toBe(409);
    const saved = world.app.settings.federation.multitenantClientId;
    try {
      world.app.settings.federation.multitenantClientId = undefined;
      const res = await world.call('POST', '/api/portals/connect', { name: 'No app' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('multitenant_app_missing');
    } finally {
      world.app.settings.federation.multitenantClientId = saved;
    }
  });
});

/** With sign-in (LICENSE_SYNC_AUTH=easyauth): who may connect, and whose name the audit trail gives the result. */
describe('connecting a tenant with sign-in', () => {
  let world: FederatedWorld;
  const ada = { name: 'ada@operator.example', objectId: randomUUID(), roles: [ADMIN_ROLE] };
  const as = (principal: { name: string; objectId?: string; roles: string[] }) => ({
    'x-ms-client-principal': encodeClientPrincipal(principal),
  });

  beforeAll(async () => {
    world = await startFederatedWorld({ LICENSE_SYNC_AUTH: 'easyauth' });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('lets only an Admin start it', async () => {
    const body = { name: 'Not allowed' };
    expect((await world.call('POST', '/api/portals/connect', body)).status).toBe(401);
    const reader = { name: 'rita@operator.example', roles: [READER_ROLE] };
    expect((await world.call('POST', '/api/portals/connect', body, as(reader))).status).toBe(403);
  });

  it("reaches the callback without a principal and records the portal and its first run under the admin's name", async () => {
    const started = await world.call('POST', '/api/portals/connect', { name: 'Audited Fabrikam' }, as(ada));
    expect(started.status).toBe(200);
    world.simulator.answerConsent({ tenantId: world.customer.tenantId });
    // The browser comes back from Microsoft: the callback request carries no principal of this app.
    const back = await world.consent(started.body.consentUrl);
    expect(back.status).toBe(302);
    const id = /^\/#\/portals\/([A-Za-z0-9_-]+)$/.exec(back.location ?? '')?.[1];
    expect(id).toBeDefined();

    const audit = await world.call('GET', '/api/audit', undefined, as(ada));
    expect(audit.status).toBe(200);
    const entries = (
      audit.body.items as { action: string; target: string; principal: unknown; summary: string }[]
    ).filter((item) => item.target.startsWith(`portals/${id}`));
    expect(entries.map((item) => item.action)).toEqual(['run.start', 'portal.create']);
    for (const item of entries) expect(item.principal).toEqual({ name: ada.name, objectId: ada.objectId });
    expect(entries[1]!.summary).toContain('credential=federated');
    expect(entries[1]!.summary).toContain(world.customer.tenantId);
  });
});
