import { randomUUID } from 'node:crypto';
import type { PortalRecord } from '../../src/domain/records';
import type { TableLedger } from '../../src/ledger';
import type { SimTenant } from '../../src/local/simulator';
import { previewSync } from '../../src/sync/preview';
import { DELTA_MIN_USERS } from '../../src/sync/tenantRead';
import { startSyncHarness, tenantWithApp, type SyncHarness } from './harness';

let h: SyncHarness;
beforeAll(async () => {
  h = await startSyncHarness();
});
afterAll(async () => {
  await h.close();
});

const USERS = 60;
const userId = (i: number) => `d0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function tenantOf(domain: string): SimTenant {
  const tenant = tenantWithApp(h.sim, {
    domains: [domain],
    plans: [
      { skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 50 }] },
      { skuPartNumber: 'STANDARDPACK', subscriptions: [{ units: 50 }] },
    ],
  });
  for (let i = 1; i <= USERS; i += 1) {
    tenant.addUser({
      id: userId(i),
      displayName: `User ${i}`,
      userPrincipalName: `user${i}@${domain}`,
      licenses: i % 3 === 0 ? [{ sku: 'ENTERPRISEPACK' }, { sku: 'STANDARDPACK' }] : [{ sku: 'ENTERPRISEPACK' }],
    });
  }
  return tenant;
}

async function portalNow(portal: PortalRecord): Promise<PortalRecord> {
  return (await h.services.ledger.portals.get(portal.id)) as PortalRecord;
}

/**
 * Makes the portal look like a large tenant's (its last run read DELTA_MIN_USERS users), so the next full read
 * asks Graph for a delta link. Only the run counts change.
 */
async function lookLarge(portal: PortalRecord): Promise<void> {
  const current = await portalNow(portal);
  const lastRun = current.lastRun!;
  await h.services.ledger.portals.update({
    ...current,
    lastRun: { ...lastRun, counts: { ...lastRun.counts, usersRead: DELTA_MIN_USERS } },
  });
}

function stats() {
  return (h.services.ledger as TableLedger).stats;
}

/** A full read now (a dry run) would change nothing: the ledger is what a full sync makes of the tenant. */
async function expectMatchesFullRead(portal: PortalRecord): Promise<void> {
  const preview = await previewSync(h.services, portal.id);
  expect(preview.plan.counts).toMatchObject({
    licensesCreated: 0,
    licensesUpdated: 0,
    contactsCreated: 0,
    contactsUpdated: 0,
    consumersAdded: 0,
    consumersUpdated: 0,
    consumersRemoved: 0,
  });
}

describe('delta runs', () => {
  test("after a full read, a run reads only the changes and touches only the changed users' ledger rows", async () => {
    const domain = `d${randomUUID().slice(0, 8)}.example.com`;
    const tenant = tenantOf(domain);
    const portal = await h.addPortal(tenant);

    const first = await h.sync(portal);
    expect(first).toMatchObject({ status: 'succeeded', readMode: 'full' });
    expect((await portalNow(portal)).userLinksAt).toBeDefined();
    expect((await portalNow(portal)).deltaLink).toBeUndefined(); // a small tenant reads in full every time

    await lookLarge(portal);
    const second = await h.sync(portal);
    expect(second).toMatchObject({ status: 'succeeded', readMode: 'full' });
    expect((await portalNow(portal)).deltaLink).toMatch(/^https:\/\//);

    // 1 plan removed, 1 plan added, 1 user renamed (a new address), 1 user deleted.
    tenant.removeLicense(userId(3), 'STANDARDPACK');
    tenant.assignLicense(userId(1), { sku: 'STANDARDPACK' });
    tenant.updateUser(userId(2), { displayName: 'User Two Renamed', mail: `renamed2@${domain}` });
    tenant.removeUser(userId(4));
    const consumersBefore = (await h.consumers(portal)).length;

    const read = stats().entitiesRead;
    const third = await h.sync(portal);
    const readByDelta = stats().entitiesRead - read;
    expect(third).toMatchObject({ status: 'succeeded', readMode: 'delta' });
    expect(third.counts).toMatchObject({
      usersRead: 3,
      consumersAdded: 1,
      consumersRemoved: 2,
      consumersUpdated: 1,
      contactsUpdated: 1,
    });
    // Plans, subscriptions and the delta page: no page through every user.
    expect(third.graphRequests).toBe(3);
    // Point reads of the named users' rows (plus the portal, run and lease records), never the whole partition:
    // 2 licenses, 3 user links, 5 consumers, a few records of the run and the licenses read for the day's
    // snapshots.
    expect(consumersBefore).toBe(80);
    expect(readByDelta).toBeLessThan(30);

    const consumers = await h.consumers(portal);
    expect(consumers).toHaveLength(consumersBefore - 1); // 2 unlinked, 1 linked
    expect(consumers.some((c) => c.assignment?.objectId === userId(4))).toBe(false);
    expect(
      consumers
        .filter((c) => c.assignment?.objectId === userId(1))
        .map((c) => c.skuId)
        .sort(),
    ).toEqual(
      tenant
        .subscribedSkus()
        .map((s) => s.skuId)
        .sort(),
    );
    expect((await h.services.ledger.contacts.findByAddress(`renamed2@${domain}`))?.email).toBe(`user2@${domain}`);
    const licenses = await h.licenses(portal);
    for (const license of licenses) {
      expect(license.assigned).toBe(consumers.filter((c) => c.skuId === license.skuId).length);
    }
    await expectMatchesFullRead(portal);

    // A delta round that finds nothing writes nothing to the ledger.
    const before = await h.ledgerSnapshot();
    const quiet = await h.sync(portal);
    expect(quiet).toMatchObject({ status: 'succeeded', readMode: 'delta', graphRequests: 3 });
    expect(await h.ledgerSnapshot()).toEqual(before);
  });

  test("a large tenant's first sync (by the licenses its plans say are in use) keeps a delta link: its second run is a delta round", async () => {
    const domain = `f${randomUUID().slice(0, 8)}.example.com`;
    const tenant = tenantWithApp(h.sim, {
      domains: [domain],
      // The plans say DELTA_MIN_USERS licenses are in use: a large tenant, before any run has counted its users.
      plans: [{ skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 9_000 }], consumedUnits: DELTA_MIN_USERS }],
    });
    for (let i = 1; i <= 3; i += 1) {
      tenant.addUser({
        id: userId(i),
        displayName: `User ${i}`,
        userPrincipalName: `user${i}@${domain}`,
        licenses: [{ sku: 'ENTERPRISEPACK' }],
      });
    }
    const portal = await h.addPortal(tenant);

    const first = await h.sync(portal);
    expect(first).toMatchObject({ status: 'succeeded', readMode: 'full' });
    // Plans, subscriptions, the $deltatoken=latest link, one page of users.
    expect(first.graphRequests).toBe(4);
    expect((await portalNow(portal)).deltaLink).toMatch(/^https:\/\//);

    tenant.removeLicense(userId(2), 'ENTERPRISEPACK');
    const second = await h.sync(portal);
    // Plans, subscriptions, one delta page.
    expect(second).toMatchObject({ status: 'succeeded', readMode: 'delta', graphRequests: 3 });
    expect(second.counts).toMatchObject({ usersRead: 1, consumersRemoved: 1 });
  });

  test('an expired delta link falls back to a full read and gets a new link', async () => {
    const tenant = tenantOf(`e${randomUUID().slice(0, 8)}.example.com`);
    const portal = await h.addPortal(tenant);
    await h.sync(portal);
    await lookLarge(portal);
    await h.sync(portal);
    const link = (await portalNow(portal)).deltaLink;
    expect(link).toBeDefined();

    tenant.expireDeltaLinks();
    tenant.removeLicense(userId(1), 'ENTERPRISEPACK');
    const run = await h.sync(portal);
    expect(run).toMatchObject({ status: 'succeeded', readMode: 'full' });
    expect(run.counts.consumersRemoved).toBe(1);
    const renewed = (await portalNow(portal)).deltaLink;
    expect(renewed).toMatch(/^https:\/\//);
    expect(renewed).not.toBe(link);
    expect((await h.sync(portal)).readMode).toBe('delta');
  });

  test('a portal whose ledger has no user links yet is read in full even with a delta link', async () => {
    const tenant = tenantOf(`l${randomUUID().slice(0, 8)}.example.com`);
    const portal = await h.addPortal(tenant);
    await h.sync(portal);
    await lookLarge(portal);
    await h.sync(portal);
    // As a portal synced before user links existed: a delta link, but no userLinksAt.
    const current = await portalNow(portal);
    await h.services.ledger.portals.update({ ...current, userLinksAt: undefined });
    tenant.removeLicense(userId(5), 'ENTERPRISEPACK');

    const run = await h.sync(portal);
    expect(run).toMatchObject({ status: 'succeeded', readMode: 'full' });
    expect(run.counts.consumersRemoved).toBe(1);
    expect((await portalNow(portal)).userLinksAt).toBeDefined();
    expect((await h.sync(portal)).readMode).toBe('delta');
  });

  test('changed users that Graph sends with only some properties are read whole, so no license is lost', async () => {
    const domain = `p${randomUUID().slice(0, 8)}.example.com`;
    const tenant = tenantOf(domain);
    const portal = await h.addPortal(tenant);
    await h.sync(portal);
    await lookLarge(portal);
    await h.sync(portal);
    const before = await h.consumers(portal);

    tenant.deltaChangedPropertiesOnly = true;
    // A rename (the licenses stay), a license taken away, and a user renamed then deleted before the run.
    tenant.updateUser(userId(7), { displayName: 'User Seven Renamed' });
    tenant.removeLicense(userId(9), 'STANDARDPACK');
    tenant.updateUser(userId(10), { displayName: 'Soon Gone' });
    const run = await h.sync(portal);

    expect(run).toMatchObject({ status: 'succeeded', readMode: 'delta' });
    // Plans, subscriptions, the delta page, and one request for the 3 users that came without their licenses.
    expect(run.graphRequests).toBe(4);
    expect(run.counts).toMatchObject({ usersRead: 3, consumersRemoved: 1, consumersAdded: 0 });
    const after = await h.consumers(portal);
    expect(after.filter((c) => c.assignment?.objectId === userId(7))).toHaveLength(1);
    expect(after.filter((c) => c.assignment?.objectId === userId(9))).toHaveLength(1);
    expect(after).toHaveLength(before.length - 1);
    await expectMatchesFullRead(portal);

    // A user changed and then deleted before the run comes as removed.
    tenant.updateUser(userId(11), { displayName: 'Deleted Soon' });
    tenant.removeUser(userId(11));
    const gone = await h.sync(portal);
    expect(gone.counts.consumersRemoved).toBe(1);
    expect((await h.consumers(portal)).some((c) => c.assignment?.objectId === userId(11))).toBe(false);
  });
});
