import { randomUUID } from 'node:crypto';
import { startSimulator, type SimTenant, type Simulator } from '../local/simulator';
import { runSync } from '../sync/runSync';
import { startApi, type ApiHarness } from '../../test/api/harness';
import { portalName } from '../../test/api/tenant';
import { testTls } from '../../test/support/env';

// Right-size before renewal through the real routes, on a simulated tenant synced into Azurite: terms (inferred
// and set), the split across a plan's subscriptions, the buffer settings, holders by kind, prices in two
// currencies or none, CSV and paging.

const DAY1 = new Date('2026-11-20T09:00:00Z');
const days = (n: number) => new Date(DAY1.getTime() + n * 86_400_000).toISOString();
const WITH_AUDIT_LOG = ['Organization.Read.All', 'User.Read.All', 'AuditLog.Read.All'];

let sim: Simulator;
let api: ApiHarness;

beforeAll(async () => {
  sim = await startSimulator(testTls());
  api = await startApi(
    { simulator: { authorityHost: sim.authorityHost, graphEndpoint: sim.graphEndpoint } },
    (services) => ({ ...services, now: () => new Date(DAY1) }),
  );
});

afterAll(async () => {
  await sim?.close();
});

interface Tenant {
  tenant: SimTenant;
  portalId: string;
}

const active = (n: number) => ({ lastSuccessfulSignInDateTime: days(-n) });

/**
 * E3: a yearly subscription (10 seats, renewing in 20 days, created a year before), a monthly one (3 seats, in
 * 10 days) and a Deleted one; 8 holders: 4 members and a guest who sign in, one inactive, one disabled, one both.
 * Power BI (5 seats, 30 days) held by 2; E1 (4 seats, 40 days) held by 1.
 */
async function tenantWithPortal(): Promise<Tenant> {
  const clientId = randomUUID();
  const clientSecret = `renewals-${randomUUID()}`;
  const domain = `r${randomUUID().slice(0, 8)}.example.com`;
  const user = (name: string, skus: string[], extra: Record<string, unknown> = {}) => ({
    displayName: name,
    userPrincipalName: `${name.split(' ')[0]!.toLowerCase()}@${domain}`,
    licenses: skus.map((sku) => ({ sku })),
    signInActivity: active(2),
    createdDateTime: days(-400),
    ...extra,
  });
  const tenant = sim.addTenant({
    domains: [domain],
    apps: [{ clientId, clientSecret, permissions: WITH_AUDIT_LOG }],
    plans: [
      {
        skuPartNumber: 'ENTERPRISEPACK',
        subscriptions: [
          { units: 10, createdDateTime: days(20 - 365), nextLifecycleDateTime: days(20) },
          { units: 3, createdDateTime: days(-50), nextLifecycleDateTime: days(10) },
          { units: 4, status: 'Deleted' },
        ],
      },
      {
        skuPartNumber: 'POWER_BI_PRO',
        subscriptions: [{ units: 5, createdDateTime: days(-1), nextLifecycleDateTime: days(30) }],
      },
      {
        skuPartNumber: 'STANDARDPACK',
        subscriptions: [
          { units: 4, createdDateTime: days(-20), nextLifecycleDateTime: days(40) },
          // Beyond the default window of 90 days: no item of its own.
          { units: 1, createdDateTime: days(-20), nextLifecycleDateTime: days(200) },
        ],
      },
    ],
    users: [
      user('Ann Active', ['ENTERPRISEPACK', 'POWER_BI_PRO']),
      user('Bob Active', ['ENTERPRISEPACK', 'STANDARDPACK']),
      user('Cat Active', ['ENTERPRISEPACK']),
      user('Dan Active', ['ENTERPRISEPACK']),
      user('Ian Idle', ['ENTERPRISEPACK'], { signInActivity: active(120) }),
      user('Gus Gone', ['ENTERPRISEPACK'], { accountEnabled: false }),
      user('Zed Both', ['ENTERPRISEPACK'], { accountEnabled: false, signInActivity: active(200) }),
      user('Gil Guest', ['ENTERPRISEPACK', 'POWER_BI_PRO'], {
        userPrincipalName: `gil_partner.example#EXT#@${domain}`,
        mail: 'gil@partner.example',
        userType: 'Guest',
      }),
    ],
  });
  const created = await api.call('portalsCreate', {
    body: {
      name: portalName('Renewals'),
      tenantId: tenant.tenantId,
      clientId,
      cloud: 'simulated',
      activity: true,
      auth: { kind: 'clientSecret', clientSecret },
    },
  });
  expect(created.status).toBe(201);
  const t = { tenant, portalId: created.body.id as string };
  await sync(t);
  return t;
}

async function sync(t: Tenant) {
  const queued = await api.call('portalsSync', { params: { id: t.portalId } });
  const run = await runSync(
    api.services,
    { portalId: t.portalId, runId: queued.body.runId, trigger: 'manual' },
    { dequeueCount: 1, maxDequeueCount: 5 },
  );
  expect(run.status).toBe('succeeded');
}

interface Item {
  licenseId: string;
  subscriptionId: string;
  totalLicenses: number;
  [field: string]: unknown;
}

async function renewalsOf(t: Tenant, query = ''): Promise<Item[]> {
  const listed = await api.call('insightsRenewals', { query: `?portalId=${t.portalId}${query}` });
  expect(listed.status).toBe(200);
  return listed.body.items;
}

/** The ids of a plan's subscriptions, by their seats. */
async function subscriptionIds(t: Tenant, skuPartNumber: string): Promise<Map<number, string>> {
  const listed = await api.call('licensesList', { query: `?portalId=${t.portalId}` });
  const license = listed.body.items.find((l: { skuPartNumber: string }) => l.skuPartNumber === skuPartNumber);
  return new Map(license.subscriptions.map((s: { id: string; totalLicenses: number }) => [s.totalLicenses, s.id]));
}

const pick = (items: Item[], totalLicenses: number, licenseId?: string) =>
  items.find((i) => i.totalLicenses === totalLicenses && (!licenseId || i.licenseId === licenseId));

describe('renewals', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await tenantWithPortal();
    const e3 = (await api.call('licensesList', { query: `?portalId=${t.portalId}` })).body.items;
    const skuOf = (part: string) => e3.find((l: { skuPartNumber: string }) => l.skuPartNumber === part).skuId;
    const pbiId = `${t.portalId}.${skuOf('POWER_BI_PRO')}`;
    expect(
      (
        await api.call('pricesPut', {
          params: { skuId: skuOf('ENTERPRISEPACK') },
          body: { amount: 360, currency: 'EUR', period: 'year' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await api.call('licensesPricePut', {
          params: { id: pbiId },
          body: { amount: '10', currency: 'USD', period: 'month' },
        })
      ).status,
    ).toBe(200);
  });

  test('soonest first; the plan’s active holders plus the buffer are split soonest-renewing last; terms inferred', async () => {
    const items = await renewalsOf(t);
    expect(items.map((i) => [i.nextLifecycleAt, i.totalLicenses])).toEqual([
      [days(10), 3],
      [days(20), 10],
      [days(30), 5],
      [days(40), 4],
    ]);
    // E3: 8 holders (a guest among them), of whom 5 neither disabled nor inactive; buffer max(ceil(5 %), 1) = 1:
    // 6 seats. The yearly subscription renews last and keeps 6 of its 10; the monthly one renewing first is
    // covered already and can give all 3 back.
    expect(items[1]).toMatchObject({
      term: 'year',
      termInferred: true,
      holders: 8,
      activeHolders: 5,
      recommendedSeats: 6,
      seatsToCut: 4,
      monthlyUnitPrice: 30,
      currency: 'EUR',
      savingsPerTerm: 1440,
    });
    expect(items[0]).toMatchObject({
      term: 'month',
      termInferred: true,
      holders: 8,
      activeHolders: 5,
      recommendedSeats: 0,
      seatsToCut: 3,
      savingsPerTerm: 90,
    });
    // Power BI in another currency, priced on the license: 2 holders (one a guest) + 1 = 3 of 5.
    expect(items[2]).toMatchObject({
      term: 'month',
      holders: 2,
      activeHolders: 2,
      recommendedSeats: 3,
      seatsToCut: 2,
      monthlyUnitPrice: 10,
      currency: 'USD',
      savingsPerTerm: 20,
    });
    // E1 has no price: seats only. Its later subscription (1 seat, beyond the window) keeps 1 of the 2 needed.
    expect(items[3]).toMatchObject({ holders: 1, activeHolders: 1, recommendedSeats: 1, seatsToCut: 3 });
    for (const field of ['monthlyUnitPrice', 'currency', 'savingsPerTerm']) expect(items[3]).not.toHaveProperty(field);
  });

  test('the window: ?withinDays=15 shows the monthly subscription only, still split against the yearly one', async () => {
    const items = await renewalsOf(t, '&withinDays=15');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ totalLicenses: 3, recommendedSeats: 0, seatsToCut: 3 });
    expect(await renewalsOf(t, '&withinDays=0')).toEqual([]);
    const bad = await api.call('insightsRenewals', { query: '?withinDays=-1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].path).toBe('withinDays');
  });

  test('an admin sets a term (three years, month) and removes it again; each change is in the audit trail', async () => {
    const ids = await subscriptionIds(t, 'ENTERPRISEPACK');
    const yearly = ids.get(10)!;
    const set = await api.call('subscriptionsTermPut', { params: { id: yearly }, body: { term: 'threeYears' } });
    expect(set).toMatchObject({ status: 200, body: { subscriptionId: yearly, term: 'threeYears' } });
    let item = pick(await renewalsOf(t), 10)!;
    expect(item).toMatchObject({ term: 'threeYears', seatsToCut: 4, savingsPerTerm: 4 * 30 * 36 });
    expect(item).not.toHaveProperty('termInferred');

    // A yearly subscription an admin calls monthly saves a month's worth per term.
    await api.call('subscriptionsTermPut', { params: { id: yearly.toUpperCase() }, body: { term: 'month' } });
    item = pick(await renewalsOf(t), 10)!;
    expect(item).toMatchObject({ term: 'month', savingsPerTerm: 120 });

    expect((await api.call('subscriptionsTermDelete', { params: { id: yearly } })).status).toBe(204);
    expect(pick(await renewalsOf(t), 10)).toMatchObject({ term: 'year', termInferred: true, savingsPerTerm: 1440 });
    expect((await api.call('subscriptionsTermDelete', { params: { id: yearly } })).status).toBe(404);

    const unknown = await api.call('subscriptionsTermPut', { params: { id: randomUUID() }, body: { term: 'year' } });
    expect(unknown.status).toBe(404);
    const bad = await api.call('subscriptionsTermPut', { params: { id: yearly }, body: { term: 'week' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].path).toBe('term');
    const notGuid = await api.call('subscriptionsTermPut', { params: { id: 'nope' }, body: { term: 'year' } });
    expect(notGuid.status).toBe(400);

    const audit = await api.call('auditList');
    const actions = audit.body.items
      .filter((e: { target: string }) => e.target === `subscriptions/${yearly}/term`)
      .map((e: { action: string; summary: string }) => `${e.action}: ${e.summary}`);
    // The clock stands still in this test: entries of the same instant come in any order.
    expect(actions.sort()).toEqual([
      "subscription.term.delete: Removed the subscription's term: it is inferred from its dates again",
      "subscription.term.set: Set the subscription's term to monthly",
      "subscription.term.set: Set the subscription's term to three-year",
    ]);
  });

  test('buffers: a percentage of the active holders (rounded up) or a minimum, whichever is larger', async () => {
    expect((await api.call('insightsRenewalsSettingsGet')).body).toEqual({ bufferPercent: 5, bufferMin: 1 });
    try {
      // 50 % of 5 active holders, rounded up: 3; 8 seats, all kept by the yearly subscription.
      const half = await api.call('insightsRenewalsSettingsPut', { body: { bufferPercent: 50, bufferMin: 1 } });
      expect(half).toMatchObject({ status: 200, body: { bufferPercent: 50, bufferMin: 1 } });
      expect(pick(await renewalsOf(t), 10)).toMatchObject({ recommendedSeats: 8, seatsToCut: 2 });

      // A minimum of 9 seats above 5 holders: 14, more than the yearly 10; the monthly keeps 3 of its 3 (14 - 10 = 4).
      await api.call('insightsRenewalsSettingsPut', { body: { bufferPercent: 0, bufferMin: 9 } });
      let items = await renewalsOf(t);
      expect(pick(items, 10)).toMatchObject({ recommendedSeats: 10, seatsToCut: 0 });
      expect(pick(items, 3)).toMatchObject({ recommendedSeats: 3, seatsToCut: 0, savingsPerTerm: 0 });

      // Never below the active holders: no buffer at all still keeps 5.
      await api.call('insightsRenewalsSettingsPut', { body: { bufferPercent: 0, bufferMin: 0 } });
      items = await renewalsOf(t);
      expect(pick(items, 10)).toMatchObject({ recommendedSeats: 5, seatsToCut: 5 });

      const bad = await api.call('insightsRenewalsSettingsPut', { body: { bufferPercent: 101, bufferMin: 1.5 } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['bufferMin', 'bufferPercent']);
      const unknown = await api.call('insightsRenewalsSettingsPut', { body: { bufferPercent: 5, bufferMin: 1, x: 1 } });
      expect(unknown.status).toBe(400);
      const audit = await api.call('auditList');
      expect(audit.body.items.map((e: { summary: string }) => e.summary)).toContain(
        'Set the right-size buffer to 0 % and at least 0 seats',
      );
    } finally {
      await api.call('insightsRenewalsSettingsPut', { body: { bufferPercent: 5, bufferMin: 1 } });
    }
  });

  test('pages with ?limit and ?continuationToken, and exports CSV with one row per renewal', async () => {
    const first = await api.call('insightsRenewals', { query: `?portalId=${t.portalId}&limit=3` });
    expect(first.body.items).toHaveLength(3);
    const next = await api.call('insightsRenewals', {
      query: `?portalId=${t.portalId}&limit=3&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
    });
    expect(next.body.items.map((i: Item) => i.totalLicenses)).toEqual([4]);
    expect(next.body.continuationToken).toBeUndefined();

    const csv = await api.call('insightsRenewals', { query: `?portalId=${t.portalId}&format=csv` });
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="renewals-2026-11-20.csv"');
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'portalId,licenseId,subscriptionId,nextLifecycleAt,term,termInferred,totalLicenses,holders,activeHolders,recommendedSeats,seatsToCut,monthlyUnitPrice,currency,savingsPerTerm',
    );
    expect(lines).toHaveLength(5);
    expect(lines[2]).toMatch(new RegExp(`,${days(20)},year,true,10,8,5,6,4,30,EUR,1440$`));
  });

  test('with activity off only disabled accounts count against the holders', async () => {
    await api.call('portalsChange', { params: { id: t.portalId }, body: { activity: false } });
    try {
      // Ian's inactivity is no longer shown; Gus and Zed are still disabled: 6 of 8 active, 7 seats.
      expect(pick(await renewalsOf(t), 10)).toMatchObject({ holders: 8, activeHolders: 6, recommendedSeats: 7 });
    } finally {
      await api.call('portalsChange', { params: { id: t.portalId }, body: { activity: true } });
    }
  });

  test('an unknown portal is 404', async () => {
    const res = await api.call('insightsRenewals', { query: `?portalId=${randomUUID()}` });
    expect(res.status).toBe(404);
  });
});
