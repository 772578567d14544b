import { randomUUID } from 'node:crypto';
import { startSimulator, type SimTenant, type Simulator } from '../local/simulator';
import { runSync } from '../sync/runSync';
import { startApi, type ApiHarness } from '../../test/api/harness';
import { portalName } from '../../test/api/tenant';
import { testTls } from '../../test/support/env';

// The insights through the real routes: subscriptions, activity, snapshots over two simulated days (the clock
// is the services' Clock port), the billing figure, prices and waste.

const DAY1 = new Date('2026-11-20T09:00:00Z');
const DAY2 = new Date('2026-11-21T09:00:00Z');
const daysBefore = (at: Date, days: number) => new Date(at.getTime() - days * 86_400_000).toISOString();
const daysAfter = (at: Date, days: number) => new Date(at.getTime() + days * 86_400_000).toISOString();
const WITH_AUDIT_LOG = ['Organization.Read.All', 'User.Read.All', 'AuditLog.Read.All'];

let sim: Simulator;
let api: ApiHarness;
let clock = DAY1;

beforeAll(async () => {
  sim = await startSimulator(testTls());
  api = await startApi(
    { simulator: { authorityHost: sim.authorityHost, graphEndpoint: sim.graphEndpoint } },
    (services) => ({ ...services, now: () => new Date(clock) }),
  );
});

afterAll(async () => {
  await sim?.close();
});

interface Tenant {
  tenant: SimTenant;
  portalId: string;
  domain: string;
}

async function tenantWithPortal(options: { premium?: boolean; permissions?: string[]; activity?: boolean } = {}) {
  const clientId = randomUUID();
  const clientSecret = `insights-${randomUUID()}`;
  const domain = `i${randomUUID().slice(0, 8)}.example.com`;
  const tenant = sim.addTenant({
    domains: [domain],
    premium: options.premium ?? true,
    apps: [{ clientId, clientSecret, permissions: options.permissions ?? WITH_AUDIT_LOG }],
    plans: [
      {
        skuPartNumber: 'ENTERPRISEPACK',
        subscriptions: [
          { units: 10, nextLifecycleDateTime: daysAfter(DAY1, 300) },
          { units: 2, nextLifecycleDateTime: daysAfter(DAY1, 20) },
          { units: 4, status: 'Deleted' },
        ],
      },
      {
        skuPartNumber: 'POWER_BI_PRO',
        subscriptions: [{ units: 5, isTrial: true, nextLifecycleDateTime: daysAfter(DAY1, 25) }],
      },
    ],
    users: [
      {
        displayName: 'Active Ann',
        userPrincipalName: `ann@${domain}`,
        licenses: [{ sku: 'ENTERPRISEPACK' }, { sku: 'POWER_BI_PRO' }],
        signInActivity: { lastSuccessfulSignInDateTime: daysBefore(DAY1, 2) },
        createdDateTime: daysBefore(DAY1, 400),
      },
      {
        displayName: 'Idle Ian',
        userPrincipalName: `ian@${domain}`,
        licenses: [{ sku: 'ENTERPRISEPACK' }],
        signInActivity: {
          lastSignInDateTime: daysBefore(DAY1, 120),
          lastNonInteractiveSignInDateTime: daysBefore(DAY1, 100),
        },
        createdDateTime: daysBefore(DAY1, 400),
      },
      {
        displayName: 'Never Nia',
        userPrincipalName: `nia@${domain}`,
        licenses: [{ sku: 'ENTERPRISEPACK' }],
        signInActivity: null,
        createdDateTime: daysBefore(DAY1, 200),
      },
      {
        displayName: 'Gone Gus',
        userPrincipalName: `gus@${domain}`,
        accountEnabled: false,
        licenses: [{ sku: 'ENTERPRISEPACK' }],
        signInActivity: { lastSuccessfulSignInDateTime: daysBefore(DAY1, 300) },
        createdDateTime: daysBefore(DAY1, 400),
      },
      {
        displayName: 'Guest Gil',
        userPrincipalName: `gil_partner.example#EXT#@${domain}`,
        mail: 'gil@partner.example',
        userType: 'Guest',
        licenses: [{ sku: 'POWER_BI_PRO' }],
        signInActivity: { lastSuccessfulSignInDateTime: daysBefore(DAY1, 1) },
      },
      { displayName: 'Unlicensed Uma', userPrincipalName: `uma@${domain}` },
    ],
  });
  const created = await api.call('portalsCreate', {
    body: {
      name: portalName('Insights'),
      tenantId: tenant.tenantId,
      clientId,
      cloud: 'simulated',
      activity: options.activity ?? true,
      auth: { kind: 'clientSecret', clientSecret },
    },
  });
  expect(created.status).toBe(201);
  return { tenant, portalId: created.body.id as string, domain } satisfies Tenant;
}

async function syncAt(t: Tenant, at: Date) {
  clock = at;
  const queued = await api.call('portalsSync', { params: { id: t.portalId } });
  return runSync(
    api.services,
    { portalId: t.portalId, runId: queued.body.runId, trigger: 'manual' },
    { dequeueCount: 1, maxDequeueCount: 5 },
  );
}

async function licensesOf(t: Tenant) {
  const listed = await api.call('licensesList', { query: `?portalId=${t.portalId}` });
  const by = (part: string) => listed.body.items.find((l: { skuPartNumber: string }) => l.skuPartNumber === part);
  return { e3: by('ENTERPRISEPACK'), pbi: by('POWER_BI_PRO') };
}

async function consumersByName(licenseId: string) {
  const listed = await api.call('consumersList', { params: { id: licenseId } });
  return new Map<string, Record<string, unknown>>(
    listed.body.items.map((c: { contact: { displayName: string } }) => [c.contact.displayName, c]),
  );
}

describe('subscriptions and activity', () => {
  test('a license carries each subscription of its plan, the next renewal and trial', async () => {
    const t = await tenantWithPortal();
    const run = await syncAt(t, DAY1);
    expect(run.status).toBe('succeeded');
    const { e3, pbi } = await licensesOf(t);
    expect(e3.subscriptions.map((s: { totalLicenses: number; status: string }) => [s.totalLicenses, s.status])).toEqual(
      [
        [2, 'Enabled'],
        [10, 'Enabled'],
        [4, 'Deleted'],
      ],
    );
    expect(e3.nextLifecycleAt).toBe(daysAfter(DAY1, 20));
    expect(e3.trial).toBe(false);
    expect(pbi).toMatchObject({ trial: true, nextLifecycleAt: daysAfter(DAY1, 25) });
    expect(pbi.subscriptions[0]).toMatchObject({ isTrial: true, totalLicenses: 5 });
    expect(pbi.subscriptions[0].commerceSubscriptionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('the activity pass marks the inactive and the never signed in, once a day, in its own requests', async () => {
    const t = await tenantWithPortal();
    const first = await syncAt(t, DAY1);
    // Plans, subscriptions, one page of users, one page of activity.
    expect(first.graphRequests).toBe(4);
    const { e3 } = await licensesOf(t);
    const holders = await consumersByName(e3.id);
    expect(holders.get('Active Ann')).toMatchObject({ inactive: false, lastSignInAt: daysBefore(DAY1, 2) });
    expect(holders.get('Idle Ian')).toMatchObject({ inactive: true, lastSignInAt: daysBefore(DAY1, 100) });
    expect(holders.get('Never Nia')).toMatchObject({ inactive: true });
    expect(holders.get('Never Nia')!.lastSignInAt).toBeUndefined();
    const activityRequest = sim
      .requests()
      .find((r) => r.tenantId === t.tenant.tenantId && r.query.includes('signInActivity'));
    expect(decodeURIComponent(activityRequest!.query)).toContain('$filter=assignedLicenses/$count ne 0');

    // The same day again: no activity read, nothing written but the run's bookkeeping.
    const second = await syncAt(t, new Date(DAY1.getTime() + 3_600_000));
    expect(second.graphRequests).toBe(3);
    const portal = await api.call('portalsGet', { params: { id: t.portalId } });
    expect(portal.body).toMatchObject({ activity: true, inactiveDays: 90 });
    expect(portal.body.activityNotice).toBeUndefined();

    // Turning activity off hides the facts at once.
    await api.call('portalsChange', { params: { id: t.portalId }, body: { activity: false } });
    expect((await consumersByName(e3.id)).get('Idle Ian')!.inactive).toBeUndefined();
  });

  test('a tenant without Entra ID P1 keeps syncing with a notice, marks nobody, and tries again the next day', async () => {
    const t = await tenantWithPortal({ premium: false });
    const run = await syncAt(t, DAY1);
    expect(run.status).toBe('succeeded');
    const portal = await api.call('portalsGet', { params: { id: t.portalId } });
    expect(portal.body.activityNotice).toMatchObject({ code: 'activity_premium_missing', at: DAY1.toISOString() });
    expect(portal.body.activityNotice.message).toContain('Entra ID P1');
    const { e3 } = await licensesOf(t);
    for (const holder of (await consumersByName(e3.id)).values()) expect(holder.inactive).toBeUndefined();

    t.tenant.premium = true;
    await syncAt(t, DAY2);
    const after = await api.call('portalsGet', { params: { id: t.portalId } });
    expect(after.body.activityNotice).toBeUndefined();
    expect((await consumersByName(e3.id)).get('Idle Ian')!.inactive).toBe(true);
  });

  test('without AuditLog.Read.All the notice says to grant it; a refused subscriptions read leaves its own notice', async () => {
    const t = await tenantWithPortal({ permissions: ['Organization.Read.All', 'User.Read.All'] });
    t.tenant.fail({ kind: 'forbidden' }, { resource: 'subscriptions' });
    const run = await syncAt(t, DAY1);
    expect(run.status).toBe('succeeded');
    const portal = await api.call('portalsGet', { params: { id: t.portalId } });
    expect(portal.body.activityNotice).toMatchObject({ code: 'activity_permission_missing' });
    expect(portal.body.activityNotice.message).toContain('AuditLog.Read.All');
    expect(portal.body.subscriptionsNotice).toMatchObject({ code: 'consent_missing' });
    const { e3 } = await licensesOf(t);
    expect(e3.subscriptions).toBeUndefined();
  });
});

describe('history and the billing figure', () => {
  test('one snapshot per license and day, the last run of the day wins; the month figure counts each person once', async () => {
    const t = await tenantWithPortal();
    await syncAt(t, DAY1);
    t.tenant.removeLicense(`nia@${t.domain}`, 'ENTERPRISEPACK');
    await syncAt(t, new Date(DAY1.getTime() + 3_600_000));
    t.tenant.addUser({
      displayName: 'New Ned',
      userPrincipalName: `ned@${t.domain}`,
      licenses: [{ sku: 'POWER_BI_PRO' }],
    });
    await syncAt(t, DAY2);

    const { e3 } = await licensesOf(t);
    const history = await api.call('licensesHistory', { params: { id: e3.id } });
    expect(history.body.items).toEqual([
      { date: '2026-11-20', available: 12, consumedUnits: 3, assigned: 3, warning: 0, suspended: 0 },
      { date: '2026-11-21', available: 12, consumedUnits: 3, assigned: 3, warning: 0, suspended: 0 },
    ]);
    const bounded = await api.call('licensesHistory', {
      params: { id: e3.id },
      query: '?from=2026-11-21&to=2026-11-21',
    });
    expect(bounded.body.items.map((s: { date: string }) => s.date)).toEqual(['2026-11-21']);
    const reversed = await api.call('licensesHistory', {
      params: { id: e3.id },
      query: '?from=2026-11-22&to=2026-11-21',
    });
    expect(reversed.status).toBe(400);

    // Day 1: 5 licensed people, then 4 (Nia lost her only plan); day 2: 5 with Ned. Ann holds two plans: once.
    const report = await api.call('reportsLicensedUsers', { query: `?month=2026-11&portalId=${t.portalId}` });
    expect(report.body.items).toEqual([
      {
        portalId: t.portalId,
        portalName: expect.any(String),
        month: '2026-11',
        peakLicensedUsers: 5,
        lastLicensedUsers: 5,
      },
    ]);
    const empty = await api.call('reportsLicensedUsers', { query: `?month=2026-10&portalId=${t.portalId}` });
    expect(empty.body.items).toEqual([]);
    expect((await api.call('licensesHistory', { params: { id: `${t.portalId}.nope` } })).status).toBe(404);
    const csv = await api.call('licensesHistory', { params: { id: e3.id }, query: '?format=csv' });
    expect(csv.status).toBe(200);
    expect(
      csv.text
        .replace(/^\uFEFF/, '')
        .split('\r\n')
        .slice(0, 2),
    ).toEqual(['date,available,consumedUnits,assigned,warning,suspended', '2026-11-20,12,3,3,0,0']);
  });
});

describe('prices and waste', () => {
  test('monthly and yearly prices in two currencies: license cost, waste per license and totals per currency', async () => {
    const t = await tenantWithPortal();
    await syncAt(t, DAY1);
    const { e3, pbi } = await licensesOf(t);
    const put = await api.call('pricesPut', {
      params: { skuId: e3.skuId },
      body: { amount: 360, currency: 'eur', period: 'year' },
    });
    expect(put).toMatchObject({
      status: 200,
      body: { skuId: e3.skuId, amount: '360', currency: 'EUR', period: 'year' },
    });
    expect(
      (
        await api.call('licensesPricePut', {
          params: { id: pbi.id },
          body: { amount: '9.99', currency: 'USD', period: 'month' },
        })
      ).status,
    ).toBe(200);
    expect((await api.call('pricesList')).body.items).toEqual([
      { skuId: e3.skuId, amount: '360', currency: 'EUR', period: 'year' },
    ]);
    const priced = await licensesOf(t);
    expect(priced.e3).toMatchObject({ monthlyUnitPrice: 30, currency: 'EUR', monthlyCost: 360 });
    expect(priced.pbi).toMatchObject({ monthlyUnitPrice: 9.99, currency: 'USD', monthlyCost: 49.95 });

    const waste = await api.call('insightsWaste', { query: `?portalId=${t.portalId}` });
    const e3Waste = waste.body.items.find((i: { licenseId: string }) => i.licenseId === e3.id);
    // 12 seats, 4 held: 8 unassigned; Gus disabled (and inactive: counted once), Ian and Nia inactive.
    expect(e3Waste).toMatchObject({
      unassigned: 8,
      disabledHolders: 1,
      inactiveHolders: 2,
      guestHolders: 0,
      reclaimableMonthly: 330,
      currency: 'EUR',
    });
    const pbiWaste = waste.body.items.find((i: { licenseId: string }) => i.licenseId === pbi.id);
    expect(pbiWaste).toMatchObject({ unassigned: 3, guestHolders: 1, reclaimableMonthly: 29.97, currency: 'USD' });
    expect(waste.body.totals).toEqual({
      EUR: { monthlyCost: 360, reclaimableMonthly: 330 },
      USD: { monthlyCost: 49.95, reclaimableMonthly: 29.97 },
    });

    expect((await api.call('licensesPriceDelete', { params: { id: pbi.id } })).status).toBe(204);
    expect((await api.call('licensesPriceDelete', { params: { id: pbi.id } })).status).toBe(404);
    expect((await api.call('pricesDelete', { params: { skuId: e3.skuId } })).status).toBe(204);
    const unpriced = await api.call('insightsWaste', { query: `?portalId=${t.portalId}` });
    expect(unpriced.body.totals).toEqual({});
    expect(unpriced.body.items[0].reclaimableMonthly).toBeUndefined();
  });

  test('a bad price names its fields; an unknown license is 404', async () => {
    const bad = await api.call('pricesPut', {
      params: { skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900' },
      body: { amount: -1, currency: 'euro', period: 'week' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['amount', 'currency', 'period']);
    const unknown = await api.call('licensesPricePut', {
      params: { id: 'nope.nope' },
      body: { amount: 1, currency: 'EUR', period: 'month' },
    });
    expect(unknown.status).toBe(404);
  });
});
