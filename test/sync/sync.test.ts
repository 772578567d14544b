import { randomUUID } from 'node:crypto';
import type { ContactRecord } from '../../src/domain/records';
import type { SimTenant } from '../../src/local/simulator';
import { LARGE_TENANT_USERS, setLargeReadSlots, Slots } from '../../src/sync/memoryBudget';
import { previewSync } from '../../src/sync/preview';
import { PREVIEW_MAX_ITEMS } from '../../src/sync/reconcilePortal';
import { APP_SECRET, startSyncHarness, tenantWithApp, type SyncHarness } from './harness';

let h: SyncHarness;
beforeAll(async () => {
  h = await startSyncHarness();
});
afterAll(async () => {
  await h.close();
});

/** A small tenant: two plans, a member with aliases, a guest, a disabled account, a group license with an error. */
function smallTenant(domain = `t${randomUUID().slice(0, 8)}.example.com`): SimTenant {
  const tenant = tenantWithApp(h.sim, {
    domains: [domain],
    plans: [
      { skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 10 }, { units: 5, status: 'Warning' }] },
      { skuPartNumber: 'STANDARDPACK', subscriptions: [{ units: 2 }], consumedUnits: 3 },
    ],
  });
  tenant.addUser({
    id: 'a0000000-0000-4000-8000-000000000001',
    displayName: 'Ann Lee',
    userPrincipalName: `ann@${domain}`,
    aliases: [`a.lee@${domain}`],
    licenses: [{ sku: 'ENTERPRISEPACK' }],
  });
  tenant.addUser({
    id: 'a0000000-0000-4000-8000-000000000002',
    displayName: 'Bob Guest',
    userPrincipalName: `bob_partner.com#EXT#@${domain}`,
    mail: `bob@partner-of-${domain}`,
    userType: 'Guest',
    licenses: [{ sku: 'STANDARDPACK' }],
  });
  tenant.addUser({
    id: 'a0000000-0000-4000-8000-000000000003',
    displayName: 'Cy Gone',
    userPrincipalName: `cy@${domain}`,
    accountEnabled: false,
    licenses: [
      { sku: 'ENTERPRISEPACK' },
      {
        sku: 'STANDARDPACK',
        groups: [
          {
            groupId: 'b0000000-0000-4000-8000-00000000000a',
            error: 'CountViolation',
            state: 'ActiveWithSolutionIssues',
          },
        ],
      },
    ],
  });
  tenant.addUser({
    id: 'a0000000-0000-4000-8000-000000000004',
    displayName: 'No License',
    userPrincipalName: `nolicense@${domain}`,
  });
  return tenant;
}

async function contactOf(address: string): Promise<ContactRecord | undefined> {
  return h.services.ledger.contacts.findByAddress(address);
}

describe('syncing a tenant into the ledger', () => {
  test('a first run writes the available count per plan and links every licensed user, guests and disabled accounts flagged', async () => {
    const tenant = smallTenant();
    const domain = tenant.domains[0]!;
    const portal = await h.addPortal(tenant, { name: 'Fabrikam' });
    const run = await h.sync(portal);

    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({
      plansRead: 2,
      usersRead: 4,
      licensesCreated: 2,
      contactsCreated: 3,
      consumersAdded: 4,
      consumersRemoved: 0,
      conflicts: 0,
    });
    const licenses = await h.licenses(portal);
    expect(
      licenses.map((l) => [l.name, l.available, l.warning, l.consumedUnits, l.assigned, l.overAssigned]).sort(),
    ).toEqual([
      ['Fabrikam - Office 365 E1', 2, 0, 3, 2, true],
      ['Fabrikam - Office 365 E3', 10, 5, 2, 2, false],
    ]);

    const ann = await contactOf(`A.LEE@${domain.toUpperCase()}`);
    expect(ann).toMatchObject({ displayName: 'Ann Lee', origin: { kind: 'sync', portalId: portal.id } });
    const consumers = await h.consumers(portal);
    const guest = consumers.find((c) => c.contactId === (ann ? undefined : '') || c.assignment?.userType === 'Guest');
    expect(guest?.assignment).toMatchObject({ userType: 'Guest', accountEnabled: true, assignedDirectly: true });
    const cy = consumers.filter((c) => c.assignment?.userPrincipalName === `cy@${domain}`);
    expect(cy).toHaveLength(2);
    expect(cy.every((c) => c.assignment?.accountEnabled === false)).toBe(true);
    expect(cy.find((c) => c.assignment?.assignedViaGroups.length)?.assignment).toMatchObject({
      assignedDirectly: false,
      assignedViaGroups: ['b0000000-0000-4000-8000-00000000000a'],
      assignmentError: 'CountViolation',
    });
    expect(await contactOf(`nolicense@${domain}`)).toBeUndefined();
  });

  test('reads plans, subscriptions and users with one request per page: Graph requests = user pages + 2', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 2500, plans: 1, seed: 7 } });
    const portal = await h.addPortal(tenant);
    const run = await h.sync(portal);
    expect(run.status).toBe('succeeded');
    expect(run.counts.usersRead).toBe(2500);
    expect(run.graphRequests).toBe(3 + 2);
    const userRequests = h.sim.requests().filter((r) => r.tenantId === tenant.tenantId && r.path === '/v1.0/users');
    expect(decodeURIComponent(userRequests[0]!.query)).toContain('$top=999');
    expect(decodeURIComponent(userRequests[0]!.query)).toContain(
      '$select=id,displayName,mail,userPrincipalName,proxyAddresses,accountEnabled,userType,assignedLicenses,licenseAssignmentStates',
    );
  });

  test('a second run over unchanged tenant data writes nothing to the ledger', async () => {
    const portal = await h.addPortal(smallTenant());
    await h.sync(portal);
    const before = await h.ledgerSnapshot();
    const second = await h.sync(portal);
    expect(second.status).toBe('succeeded');
    expect(second.counts).toMatchObject({
      licensesCreated: 0,
      licensesUpdated: 0,
      contactsCreated: 0,
      contactsUpdated: 0,
      consumersAdded: 0,
      consumersUpdated: 0,
      consumersRemoved: 0,
    });
    expect(await h.ledgerSnapshot()).toEqual(before);
  });

  test('a failure on user page 2 of 3 removes nothing and fails the run; the next run finishes the job', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 2500, plans: 1, seed: 3 } });
    const portal = await h.addPortal(tenant);
    expect((await h.sync(portal)).status).toBe('succeeded');
    const linked = (await h.consumers(portal)).length;
    const [license] = await h.licenses(portal);

    // Take a license away, then fail the read half-way: nothing may be removed yet.
    tenant.removeLicense(tenant.generatedUserId(0), license!.skuPartNumber);
    tenant.fail({ kind: 'reset', afterBytes: 500 }, { resource: 'users', page: 2, times: Infinity });
    await expect(h.sync(portal, 1)).rejects.toMatchObject({ code: 'graph_unreachable', transient: true });
    expect((await h.consumers(portal)).length).toBe(linked);
    const runs = await h.services.ledger.runs.list(portal.id);
    expect(runs[0]).toMatchObject({ errorCode: 'graph_unreachable' });

    tenant.clearFaults();
    const next = await h.sync(portal, 1);
    expect(next.status).toBe('succeeded');
    expect(next.counts.consumersRemoved).toBe(1);
    expect((await h.consumers(portal)).length).toBe(linked - 1);
  });

  test('a renamed user keeps the contact and the new address becomes an alias', async () => {
    const tenant = smallTenant();
    const domain = tenant.domains[0]!;
    const portal = await h.addPortal(tenant);
    await h.sync(portal);
    const before = await contactOf(`ann@${domain}`);

    tenant.updateUser('a0000000-0000-4000-8000-000000000001', {
      displayName: 'Ann Smith',
      userPrincipalName: `ann.smith@${domain}`,
    });
    const run = await h.sync(portal);
    expect(run.counts).toMatchObject({
      contactsCreated: 0,
      consumersAdded: 0,
      consumersRemoved: 0,
      contactsUpdated: 1,
    });
    const after = await contactOf(`ann.smith@${domain}`);
    expect(after?.id).toBe(before?.id);
    expect(await contactOf(`ann@${domain}`)).toMatchObject({ id: before?.id });
  });

  test("two contacts sharing the user's addresses give a conflict and no duplicate", async () => {
    const tenant = smallTenant();
    const domain = tenant.domains[0]!;
    const now = new Date().toISOString();
    const hand = (email: string): ContactRecord => ({
      id: randomUUID(),
      email,
      aliases: [],
      displayName: email,
      origin: { kind: 'manual' },
      createdAt: now,
      updatedAt: now,
    });
    await h.services.ledger.contacts.create(hand(`ann@${domain}`));
    await h.services.ledger.contacts.create(hand(`a.lee@${domain}`));
    const portal = await h.addPortal(tenant);
    const run = await h.sync(portal);
    expect(run.status).toBe('succeeded');
    expect(run.counts.conflicts).toBe(1);
    expect(run.conflicts[0]).toMatchObject({ userPrincipalName: `ann@${domain}` });
    expect(run.conflicts[0]!.contactIds).toHaveLength(2);
    const annLinks = (await h.consumers(portal)).filter((c) => c.assignment?.userPrincipalName === `ann@${domain}`);
    expect(annLinks).toHaveLength(0);
  });

  test('a hand-made consumer survives every run, even when Microsoft says the user holds no license', async () => {
    const tenant = smallTenant();
    const domain = tenant.domains[0]!;
    const portal = await h.addPortal(tenant);
    await h.sync(portal);
    const [e3] = (await h.licenses(portal)).filter((l) => l.skuPartNumber === 'ENTERPRISEPACK');
    const bob = await contactOf(`bob@partner-of-${domain}`);
    await h.services.ledger.licenses.addManualConsumer(e3!.id, bob!.id, new Date().toISOString());

    tenant.removeLicense('a0000000-0000-4000-8000-000000000001', 'ENTERPRISEPACK');
    await h.sync(portal);
    await h.sync(portal);
    const e3Consumers = await h.services.ledger.licenses.listConsumers(e3!.id);
    expect(e3Consumers.find((c) => c.contactId === bob!.id)?.owner).toEqual({ kind: 'manual' });
    expect(e3Consumers.find((c) => c.assignment?.userPrincipalName === `ann@${domain}`)).toBeUndefined();
    expect((await h.services.ledger.licenses.get(e3!.id))?.assigned).toBe(2);
  });

  test('a plan that disappears keeps its license with available 0 and a status saying so', async () => {
    const tenant = smallTenant();
    const portal = await h.addPortal(tenant);
    await h.sync(portal);
    for (const id of ['a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000003'])
      tenant.removeLicense(id, 'STANDARDPACK');
    tenant.removePlan('STANDARDPACK');
    const run = await h.sync(portal);
    expect(run.status).toBe('succeeded');
    const gone = (await h.licenses(portal)).find((l) => l.skuPartNumber === 'STANDARDPACK');
    expect(gone).toMatchObject({ available: 0, status: 'goneFromPortal', assigned: 0 });
    expect(gone?.statusMessage).toMatch(/no longer/i);
  });

  test("another portal's data is never touched", async () => {
    const shared = smallTenant();
    const other = await h.addPortal(shared);
    await h.sync(other);
    const otherBefore = JSON.stringify([await h.licenses(other), await h.consumers(other)]);

    const mine = await h.addPortal(shared);
    await h.sync(mine);
    shared.removeLicense('a0000000-0000-4000-8000-000000000001', 'ENTERPRISEPACK');
    await h.sync(mine);
    expect(JSON.stringify([await h.licenses(other), await h.consumers(other)])).toBe(otherBefore);
    // The second portal linked the same contacts (shared by all portals), without creating new ones.
    expect((await h.consumers(mine)).length).toBe(3);
  });

  test('throttling with each Retry-After form, 503 and 504 are survived and counted', async () => {
    const tenant = smallTenant();
    const portal = await h.addPortal(tenant);
    const httpDate = new Date(Date.now() + 1000).toUTCString();
    tenant.fail({ kind: 'throttle', retryAfter: '0.05' }, { resource: 'subscribedSkus' });
    tenant.fail({ kind: 'throttle', retryAfter: '0' }, { resource: 'users' });
    tenant.fail({ kind: 'throttle', retryAfter: httpDate }, { resource: 'users' });
    tenant.fail({ kind: 'unavailable', status: 503, retryAfter: '0' }, { resource: 'users' });
    tenant.fail({ kind: 'unavailable', status: 504, retryAfter: '0' }, { resource: 'users' });
    const run = await h.sync(portal);
    expect(run.status).toBe('succeeded');
    expect(run.throttledRetries).toBe(5);
    expect(run.graphRequests).toBe(3 + 5);
    expect(run.counts.consumersAdded).toBe(4);
  });

  test('a wrong client secret fails the run once, with the mapped message and no secret in it', async () => {
    const portal = await h.addPortal(smallTenant(), {
      secret: { kind: 'clientSecret', clientSecret: 'wrong-secret-value-123' },
    });
    const run = await h.sync(portal);
    expect(run).toMatchObject({ status: 'failed', errorCode: 'invalid_client_secret' });
    expect(run.errorMessage).toMatch(/client secret/i);
    expect(JSON.stringify(run)).not.toContain('wrong-secret-value-123');
    expect(h.logs.join('\n')).not.toContain('wrong-secret-value-123');
    expect(h.logs.join('\n')).not.toContain(APP_SECRET);
  });

  test('missing consent fails the run naming both permissions', async () => {
    const tenant = smallTenant();
    const portal = await h.addPortal(tenant);
    tenant.fail({ kind: 'forbidden' }, { resource: 'subscribedSkus', times: Infinity });
    const run = await h.sync(portal);
    expect(run).toMatchObject({ status: 'failed', errorCode: 'consent_missing' });
    expect(run.errorMessage).toContain('Organization.Read.All');
    expect(run.errorMessage).toContain('User.Read.All');
    const portalAfter = await h.services.ledger.portals.get(portal.id);
    expect(portalAfter?.lastRun).toMatchObject({ status: 'failed', errorCode: 'consent_missing' });
  });

  test('two runs of one portal never overlap: the second is skipped while the first holds the lease', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 2000, plans: 1, seed: 11 } });
    const portal = await h.addPortal(tenant);
    const [a, b] = await Promise.all([h.sync(portal), h.sync(portal)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual(['skipped', 'succeeded']);
    expect([a, b].find((r) => r.status === 'skipped')?.skippedReason).toMatch(/in progress/);
    expect((await h.consumers(portal)).length).toBe(2000 * 1);
  });

  test('a deactivated portal is never synced but keeps its data', async () => {
    const portal = await h.addPortal(smallTenant());
    await h.sync(portal);
    const current = await h.services.ledger.portals.get(portal.id);
    await h.services.ledger.portals.update({ ...current!, active: false });
    const run = await h.sync(portal);
    expect(run.status).toBe('skipped');
    expect((await h.consumers(portal)).length).toBe(4);
  });

  test('a dry run returns the plan of changes and writes nothing to the ledger', async () => {
    const tenant = smallTenant();
    const portal = await h.addPortal(tenant);
    const before = await h.ledgerSnapshot();
    const preview = await previewSync(h.services, portal.id);
    expect(preview.plan.counts).toMatchObject({ licensesCreated: 2, contactsCreated: 3, consumersAdded: 4 });
    expect(preview.summary.headline).toMatch(/2 licenses to create/);
    expect(preview.summary.lines.some((line) => line.startsWith('Link '))).toBe(true);
    expect(await h.ledgerSnapshot()).toEqual(before);
    expect(await h.licenses(portal)).toHaveLength(0);
    const [run] = await h.services.ledger.runs.list(portal.id);
    expect(run).toMatchObject({ trigger: 'dryRun', status: 'succeeded' });
  });
});

describe('a dry run of a large tenant', () => {
  test('lists at most PREVIEW_MAX_ITEMS changes of a kind and counts them all', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 1_500, plans: 3, seed: 11 } });
    const portal = await h.addPortal(tenant);
    const preview = await previewSync(h.services, portal.id);
    expect(preview.truncated).toBe(true);
    expect(preview.plan.counts.usersRead).toBe(1_500);
    expect(preview.plan.counts.consumersAdded).toBeGreaterThan(PREVIEW_MAX_ITEMS);
    expect(preview.plan.consumers.add).toHaveLength(PREVIEW_MAX_ITEMS);
    expect(preview.plan.contacts.create).toHaveLength(PREVIEW_MAX_ITEMS);
    expect(preview.summary.headline).toContain(`${preview.plan.counts.consumersAdded} consumers to link`);
    expect(await h.licenses(portal)).toHaveLength(0);
  });
});

describe('full reads of large tenants', () => {
  test("take turns for the process's large-read slots; small tenants never wait", async () => {
    const slots = new Slots(1);
    setLargeReadSlots(slots);
    try {
      const portals = await Promise.all(
        [smallTenant(), smallTenant(), smallTenant()].map((tenant) => h.addPortal(tenant)),
      );
      for (const portal of portals) expect((await h.sync(portal)).status).toBe('succeeded');
      expect(slots.taken).toBe(0); // small (and first) runs take no slot
      // The first two now look large (their last run read LARGE_TENANT_USERS users).
      for (const portal of portals.slice(0, 2)) {
        const current = (await h.services.ledger.portals.get(portal.id))!;
        await h.services.ledger.portals.update({
          ...current,
          lastRun: { ...current.lastRun!, counts: { ...current.lastRun!.counts, usersRead: LARGE_TENANT_USERS } },
        });
      }
      const runs = await Promise.all(portals.map((portal) => h.sync(portal)));
      expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(slots.taken).toBe(2);
      expect(slots.peak).toBe(1);

      // A first sync of a tenant whose plans say LARGE_TENANT_USERS licenses are in use takes a slot too.
      const big = tenantWithApp(h.sim, {
        plans: [
          { skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 30_000 }], consumedUnits: LARGE_TENANT_USERS },
        ],
      });
      big.addUser({
        id: randomUUID(),
        displayName: 'Only One',
        userPrincipalName: `one@${big.domains[0]}`,
        licenses: [{ sku: 'ENTERPRISEPACK' }],
      });
      expect((await h.sync(await h.addPortal(big))).status).toBe('succeeded');
      expect(slots.taken).toBe(3);
    } finally {
      setLargeReadSlots(new Slots(4));
    }
  });
});
