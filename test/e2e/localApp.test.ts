import { randomBytes, randomUUID } from 'node:crypto';
import { startSimulator, type Simulator } from '../../src/local/simulator/server';
import type { SimTenant } from '../../src/local/simulator/tenant';
import { skuIdOf } from '../../src/local/simulator/ids';
import type { ConsumerRecord, LicenseRecord, PortalRecord, RunRecord } from '../../src/domain/records';
import { testTls } from '../support/env';
import { api, eventually, startApp, tempDir, type RunningApp } from './app';

/**
 * `npm start` end to end, as a user sees it: the app in a child process, a simulated Microsoft tenant in this
 * one (reached through the operator overrides), everything else over HTTP.
 */

jest.setTimeout(60_000);

const SECRET = 'e2e-client-secret';
const E3_USERS = ['ada', 'grace', 'linus'];
const E1_USERS = ['ken', 'barbara'];

let simulator: Simulator;
const apps: RunningApp[] = [];

beforeAll(async () => {
  simulator = await startSimulator(testTls());
});
afterAll(async () => {
  await simulator.close();
});
afterEach(async () => {
  // A clean stop, so each app's own Azurite stops with it.
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

function addTenant(): { tenant: SimTenant; clientId: string; domain: string } {
  const clientId = randomUUID();
  const slug = randomBytes(4).toString('hex');
  const domain = `e2e${slug}.onmicrosoft.com`;
  const user = (name: string, sku: string) => ({
    displayName: name,
    userPrincipalName: `${name}@${domain}`,
    licenses: [{ sku }],
  });
  const tenant = simulator.addTenant({
    displayName: `E2E ${slug}`,
    domains: [domain],
    apps: [{ clientId, clientSecret: SECRET }],
    plans: [
      { skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 10 }] },
      { skuPartNumber: 'STANDARDPACK', subscriptions: [{ units: 4 }] },
    ],
    users: [...E3_USERS.map((n) => user(n, 'ENTERPRISEPACK')), ...E1_USERS.map((n) => user(n, 'STANDARDPACK'))],
  });
  return { tenant, clientId, domain };
}

let dataDir: string;
beforeEach(async () => {
  // Each app keeps its local secret store (and anything else) in a folder of its own, never in the repo's .data.
  dataDir = await tempDir('e2e-data-');
});

/** Settings every child gets: the simulated tenant through the operator overrides, no demo. */
function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    LICENSE_SYNC_DATA_DIR: dataDir,
    LICENSE_SYNC_DEMO: 'off',
    LICENSE_SYNC_AUTHORITY_HOST: simulator.authorityHost,
    LICENSE_SYNC_GRAPH_ENDPOINT: simulator.graphEndpoint,
    // Not Microsoft's download: the product names come from the snapshot shipped with the app, quickly and offline.
    LICENSE_SYNC_SKU_NAMES_URL: `${simulator.url}/product-names.csv`,
    LICENSE_SYNC_STORAGE: 'memory',
    LICENSE_SYNC_SCHEDULE: '0 0 0 1 1 *',
    LICENSE_SYNC_LOCAL_RETRY_DELAY: '0',
    LICENSE_SYNC_LOCAL_POLL_INTERVAL: '0.5',
    ...extra,
  };
}

async function launch(env: Record<string, string | undefined>): Promise<RunningApp> {
  const app = await startApp(env);
  apps.push(app);
  return app;
}

async function createPortal(
  app: RunningApp,
  clientId: string,
  domain: string,
  name = `E2E ${domain}`,
): Promise<PortalRecord> {
  const created = await api<PortalRecord>(app, 'POST', '/api/portals', {
    name,
    tenantId: domain,
    clientId,
    auth: { kind: 'clientSecret', clientSecret: SECRET },
  });
  expect(created.status).toBe(201);
  return created.body;
}

async function runs(app: RunningApp, portalId: string): Promise<RunRecord[]> {
  const { status, body } = await api<{ items: RunRecord[] }>(app, 'GET', `/api/portals/${portalId}/runs`);
  if (status !== 200) throw new Error(`runs: ${status}`);
  return body.items;
}

async function run(app: RunningApp, portalId: string, runId: string): Promise<RunRecord> {
  const { status, body } = await api<RunRecord>(app, 'GET', `/api/portals/${portalId}/runs/${runId}`);
  if (status !== 200) throw new Error(`run: ${status}`);
  return body;
}

async function finished(app: RunningApp, portalId: string, runId: string, timeoutMs = 30_000): Promise<RunRecord> {
  return eventually(
    async () => {
      const current = await run(app, portalId, runId);
      return ['succeeded', 'failed', 'skipped'].includes(current.status) ? current : undefined;
    },
    `run ${runId} to finish`,
    timeoutMs,
  );
}

async function syncNow(app: RunningApp, portalId: string): Promise<string> {
  const queued = await api<{ runId: string }>(app, 'POST', `/api/portals/${portalId}/sync`);
  expect(queued.status).toBe(202);
  return queued.body.runId;
}

/** Licenses of the portal by part number, each with the e-mail addresses of its consumers. */
async function ledgerOf(
  app: RunningApp,
  portalId: string,
): Promise<Record<string, { available: number; consumers: string[] }>> {
  const licenses = await api<{ items: LicenseRecord[] }>(
    app,
    'GET',
    `/api/licenses?portalId=${encodeURIComponent(portalId)}`,
  );
  expect(licenses.status).toBe(200);
  const result: Record<string, { available: number; consumers: string[] }> = {};
  for (const license of licenses.body.items) {
    const consumers = await api<{ items: (ConsumerRecord & { contact?: { email: string } })[] }>(
      app,
      'GET',
      `/api/licenses/${encodeURIComponent(license.id)}/consumers`,
    );
    expect(consumers.status).toBe(200);
    result[license.skuPartNumber] = {
      available: license.available,
      consumers: consumers.body.items
        .map((c) => (c.assignment?.userPrincipalName ?? c.contact?.email ?? c.contactId).split('@')[0] as string)
        .sort(),
    };
  }
  return result;
}

const EXPECTED = {
  ENTERPRISEPACK: { available: 10, consumers: [...E3_USERS].sort() },
  STANDARDPACK: { available: 4, consumers: [...E1_USERS].sort() },
};

describe('npm start, end to end', () => {
  it('runs the scheduled sync of a portal created over HTTP, and serves its licenses and consumers', async () => {
    const { clientId, domain } = addTenant();
    const app = await launch(baseEnv({ LICENSE_SYNC_SCHEDULE: '*/2 * * * * *' }));
    expect(app.output()).toMatch(/Storage: +Azurite, in memory/);
    expect(app.output()).toMatch(/Schedule: +\*\/2 \* \* \* \* \* \(NCRONTAB, UTC\)/);
    // The banner's next run is the sync's (every 2 s here), not the daily alerts pass's.
    const nextRun = /Schedule: .*, next run (\S+)/.exec(app.output())?.[1];
    expect(Date.parse(nextRun ?? '') - Date.now()).toBeLessThan(60_000);

    const portal = await createPortal(app, clientId, domain);
    const done = await eventually(
      async () => (await runs(app, portal.id)).find((r) => r.trigger === 'schedule' && r.status === 'succeeded'),
      'a scheduled run to succeed',
    );
    expect(done).toMatchObject({ counts: { plansRead: 2, usersRead: 5 }, attempts: 1 });
    expect(await ledgerOf(app, portal.id)).toEqual(EXPECTED);
    const listed = await api<PortalRecord>(app, 'GET', `/api/portals/${portal.id}`);
    expect(listed.body.lastRun).toMatchObject({ trigger: 'schedule' });

    expect(await app.stop()).toBe(0);
    expect(app.output()).toMatch(/Stopped\./);
  });

  it('delivers the message again after the app is killed mid-run, and the ledger ends up complete', async () => {
    const { tenant, clientId, domain } = addTenant();
    // Storage that outlives the app: the suite's Azurite, with tables and a queue of this test's own.
    const prefix = `e${randomBytes(5).toString('hex')}`;
    const env = baseEnv({
      AzureWebJobsStorage: process.env.AzureWebJobsStorage,
      LICENSE_SYNC_STORAGE: undefined,
      LICENSE_SYNC_TABLE_PREFIX: prefix,
      LICENSE_SYNC_QUEUE_NAME: `${prefix}-runs`,
      LICENSE_SYNC_DATA_DIR: await tempDir('e2e-kill-'),
      LICENSE_SYNC_LOCAL_MESSAGE_LEASE: '2',
    });
    const first = await launch(env);
    expect(first.output()).toMatch(/Storage: +the storage of AzureWebJobsStorage/);
    const portal = await createPortal(first, clientId, domain);

    // Graph throttles the first users page for a while: the run is caught in the middle.
    tenant.fail({ kind: 'throttle', retryAfter: '20' }, { resource: 'users', times: 1 });
    const runId = await syncNow(first, portal.id);
    await eventually(
      async () => (simulator.requestCount(/\/users$/, tenant.tenantId) > 0 ? true : undefined),
      'the run to read users',
    );
    expect((await run(first, portal.id, runId)).status).toBe('running');
    await first.kill();

    const second = await launch(env);
    const done = await finished(second, portal.id, runId);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await ledgerOf(second, portal.id)).toEqual(EXPECTED);

    // Nothing is left to do: another run over the same tenant writes nothing.
    const again = await finished(second, portal.id, await syncNow(second, portal.id));
    expect(again.status).toBe('succeeded');
    expect(again.counts).toMatchObject({
      licensesCreated: 0,
      licensesUpdated: 0,
      contactsCreated: 0,
      consumersAdded: 0,
      consumersUpdated: 0,
      consumersRemoved: 0,
    });
  });

  it('moves a message that always fails to the poison queue and shows its run failed with the error', async () => {
    const { tenant, clientId, domain } = addTenant();
    const app = await launch(baseEnv());
    const portal = await createPortal(app, clientId, domain);
    tenant.fail({ kind: 'throttle', retryAfter: '0.01' }, { times: Infinity });

    const runId = await syncNow(app, portal.id);
    const failed = await finished(app, portal.id, runId, 45_000);
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'throttled', attempts: 5 });
    expect(failed.errorMessage).toMatch(/throttl/i);
    expect(failed.errorMessage).toMatch(/gave up after 5 attempts/);
    // The last attempt records the run as failed before the host moves its message: wait for the move.
    const moved = new RegExp(`moved message \\S+ to \\S+-poison`);
    await eventually(async () => moved.test(app.output()) || undefined, 'the message to move to the poison queue');
  });

  it('fails a run once on a permanent error, without retrying it', async () => {
    const { tenant, clientId, domain } = addTenant();
    const app = await launch(baseEnv());
    const portal = await createPortal(app, clientId, domain);
    tenant.fail({ kind: 'signIn', code: 7000215 }, { times: Infinity });

    const failed = await finished(app, portal.id, await syncNow(app, portal.id));
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'invalid_client_secret', attempts: 1 });
    // Give a retry the chance it must not take.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await run(app, portal.id, failed.id)).attempts).toBe(1);
    expect(app.output()).not.toMatch(/attempt 1 of \d+ failed|attempt=2/);
  });

  it('never runs two messages of one portal at once', async () => {
    const { tenant, clientId, domain } = addTenant();
    const app = await launch(baseEnv());
    const portal = await createPortal(app, clientId, domain);
    // Each run waits on Graph for a moment, so both messages are in flight together.
    tenant.fail({ kind: 'throttle', retryAfter: '1.5' }, { resource: 'subscribedSkus', times: 2 });

    const [a, b] = await Promise.all([syncNow(app, portal.id), syncNow(app, portal.id)]);
    const results = [await finished(app, portal.id, a), await finished(app, portal.id, b)];
    // The second message arrives while the first run holds the portal's lease.
    expect(results.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(results.find((r) => r.status === 'skipped')?.skippedReason).toMatch(/in progress/);
    const ran = results.filter((r) => r.status === 'succeeded');
    // Whatever ran, ran one after the other.
    const spans = ran
      .map((r) => [Date.parse(r.startedAt as string), Date.parse(r.endedAt as string)] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(await ledgerOf(app, portal.id)).toEqual(EXPECTED);
  });

  it('shows a newcomer the demo portal synced within seconds, and keeps the data across a restart', async () => {
    const dataDir = await tempDir('e2e-demo-');
    // The demo's own certificate is not the one this suite trusts: the app restarts itself to trust it.
    const env = baseEnv({
      LICENSE_SYNC_DEMO: undefined,
      LICENSE_SYNC_STORAGE: undefined,
      LICENSE_SYNC_AUTHORITY_HOST: undefined,
      LICENSE_SYNC_GRAPH_ENDPOINT: undefined,
      LICENSE_SYNC_DATA_DIR: dataDir,
      LICENSE_SYNC_SKU_NAMES_URL: 'https://127.0.0.1:1/names.csv',
    });
    const first = await launch(env);
    expect(first.output()).toMatch(/Storage: +Azurite, data in .*e2e-demo-.*azurite \(kept across restarts\)/);
    expect(first.output()).toMatch(
      /Demo: +simulated Microsoft tenant at https:\/\/127\.0\.0\.1:\d+; created "Demo - Contoso \(simulated\)"/,
    );
    const [demo, secretless] = (await api<{ items: PortalRecord[] }>(first, 'GET', '/api/portals')).body.items;
    expect(demo).toMatchObject({ name: 'Demo - Contoso (simulated)', cloud: 'simulated' });
    // The secretless demo: the simulator plays the managed identity; no secret exists for this portal.
    expect(secretless).toMatchObject({
      name: 'Demo - Fabrikam (simulated, secretless)',
      cloud: 'simulated',
      authKind: 'federated',
      hasSecret: false,
    });
    const synced = await eventually(
      async () => (await runs(first, demo!.id)).find((r) => r.status === 'succeeded'),
      'the demo run',
      15_000,
    );
    expect(synced.counts.usersRead).toBeGreaterThan(20);
    // Right-size: the yearly E3 subscription renews in a month; 4 of the plan's 12 holders are disabled or inactive.
    const renewals = await api<{ items: { totalLicenses: number; term: string }[] }>(
      first,
      'GET',
      `/api/insights/renewals?portalId=${demo!.id}`,
    );
    expect(renewals.body.items.find((i) => i.term === 'year' && i.totalLicenses === 10)).toMatchObject({
      holders: 12,
      activeHolders: 8,
      recommendedSeats: 9,
      seatsToCut: 1,
      monthlyUnitPrice: 23,
      currency: 'USD',
      savingsPerTerm: 276,
    });
    // A year of weekly snapshots before the first run's own: the chart and the billing report show a trend.
    const e3 = `${demo!.id}.${skuIdOf('ENTERPRISEPACK')}`;
    const history = await api<{ items: { date: string; available: number }[] }>(
      first,
      'GET',
      `/api/licenses/${encodeURIComponent(e3)}/history`,
    );
    expect(history.body.items.length).toBeGreaterThanOrEqual(50);
    expect(history.body.items[0]!.available).toBeLessThan(history.body.items.at(-1)!.available);
    const lastMonth = new Date();
    lastMonth.setUTCDate(1);
    lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
    const billed = await api<{ items: { portalId: string; peakLicensedUsers: number }[] }>(
      first,
      'GET',
      `/api/reports/licensed-users?month=${lastMonth.toISOString().slice(0, 7)}&portalId=${demo!.id}`,
    );
    expect(billed.body.items).toEqual([expect.objectContaining({ portalId: demo!.id })]);
    expect(billed.body.items[0]!.peakLicensedUsers).toBeGreaterThan(17);
    // The demo's set-up is in the audit trail, under the local host's name.
    const audit = await api<{ items: { action: string; principal: { name: string } }[] }>(first, 'GET', '/api/audit');
    expect(audit.body.items.filter((e) => e.action === 'portal.create')).toHaveLength(2);
    expect(audit.body.items.filter((e) => e.action === 'price.set').length).toBeGreaterThanOrEqual(5);
    expect(new Set(audit.body.items.map((e) => e.principal.name))).toEqual(new Set(['demo set-up (local host)']));
    const federatedRun = await eventually(
      async () => (await runs(first, secretless!.id)).find((r) => r.status === 'succeeded'),
      'the secretless demo run',
      15_000,
    );
    expect(federatedRun.counts.usersRead).toBe(4);
    expect(await first.stop()).toBe(0);

    const second = await launch(env);
    expect(second.output()).toMatch(/portals exist already, so no demo portal was created/);
    const portals = (await api<{ items: PortalRecord[] }>(second, 'GET', '/api/portals')).body.items;
    expect(portals.map((p) => p.id)).toEqual([demo!.id, secretless!.id]);
    expect((await runs(second, demo!.id)).map((r) => r.id)).toContain(synced.id);
    expect(await second.stop()).toBe(0);
  });

  it('says clearly that the port is taken', async () => {
    const app = await launch(baseEnv());
    const port = new URL(app.url).port;
    const clash = startApp(baseEnv({ PORT: port }));
    await expect(clash).rejects.toThrow(new RegExp(`Port ${port} is already in use`));
  });

  it('says clearly that its storage cannot start', async () => {
    const file = `${await tempDir('e2e-file-')}/not-a-folder`;
    await import('node:fs/promises').then((fs) => fs.writeFile(file, ''));
    const failing = startApp(baseEnv({ LICENSE_SYNC_STORAGE: undefined, LICENSE_SYNC_DATA_DIR: file }));
    await expect(failing).rejects.toThrow(
      /Cannot start: Local storage \(Azurite\) could not start with its data in .*not-a-folder/,
    );
  });
});
