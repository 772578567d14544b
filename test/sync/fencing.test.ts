import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { AddressIndex } from '../../src/ledger/addresses';
import { TableContactGateway } from '../../src/ledger/contacts';
import { CountingTable, newStats } from '../../src/ledger/countingTable';
import { newQueuedRun } from '../../src/domain/runs';
import { emptyCounts, type PortalRecord } from '../../src/domain/records';
import { emptyPlan } from '../../src/domain/plan';
import { userLinkBucket } from '../../src/ledger/keys';
import { takeLease } from '../../src/runs/lifecycle';
import { getTableClient } from '../../src/storage/clients';
import { runSync } from '../../src/sync/runSync';
import { tenantWithApp, startSyncHarness, type SyncHarness } from './harness';

/**
 * What keeps two writers of one portal from corrupting its ledger: the lease fences every write step, a second
 * delivery of one message is another holder, the user links are written only over what was read, and a crash
 * between writing a contact and claiming its addresses is completed by the retry.
 */
const original = {
  create: TableClient.prototype.createEntity,
  batch: TableClient.prototype.submitTransaction,
};

let h: SyncHarness;
beforeAll(async () => {
  h = await startSyncHarness();
});
afterAll(async () => {
  await h.close();
});

/** A run of the portal whose read of the users waits (Graph throttles it) until `holding` resolves. */
function throttledRun(portal: PortalRecord, tenant: ReturnType<typeof tenantWithApp>, dequeueCount = 1) {
  let reading!: () => void;
  const holding = new Promise<void>((resolve) => (reading = resolve));
  tenant.fail({ kind: 'throttle', retryAfter: '1.5' }, { resource: 'users', match: () => (reading(), true) });
  const run = newQueuedRun(portal.id, 'manual', new Date());
  const started = h.services.ledger.runs
    .create(run)
    .then(() =>
      runSync(
        h.services,
        { portalId: portal.id, runId: run.id, trigger: 'manual' },
        { dequeueCount, maxDequeueCount: 5 },
      ),
    )
    .then(
      (result) => result,
      (error: unknown) => error,
    );
  return { run, holding, started };
}

async function leaseRow(portalId: string) {
  const table = await getTableClient(h.services.settings, 'leases');
  return { table, row: await table.getEntity<{ holder: string; expiresAt: string }>('lease', portalId) };
}

describe('the lease fences a run', () => {
  test('a run whose lease another instance took over stops before its first write', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 40, plans: 1, seed: 5 } });
    const portal = await h.addPortal(tenant);
    expect((await h.sync(portal)).status).toBe('succeeded');
    tenant.removeUser(tenant.userIds()[0]!);
    const before = await h.ledgerSnapshot();
    const { holding, started } = throttledRun(portal, tenant);
    await holding;
    // Another instance found the lease expired (its clock ahead) and took it.
    const { table, row } = await leaseRow(portal.id);
    await table.updateEntity(
      { partitionKey: 'lease', rowKey: portal.id, holder: 'other-run.1.abcd', expiresAt: row.expiresAt },
      'Replace',
      { etag: row.etag },
    );
    expect(await started).toMatchObject({ code: 'lease_lost', transient: true });
    expect(await h.ledgerSnapshot()).toEqual(before);
  });

  test('a second delivery of the same message while the first is at work waits for it and then writes nothing', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 30, plans: 1, seed: 6 } });
    const portal = await h.addPortal(tenant);
    const { run, holding, started } = throttledRun(portal, tenant);
    await holding;
    const duplicate = runSync(
      h.services,
      { portalId: portal.id, runId: run.id, trigger: 'manual' },
      { dequeueCount: 2, maxDequeueCount: 5 },
    );
    expect(await started).toMatchObject({ id: run.id, status: 'succeeded', attempts: 1 });
    // It waited for the first attempt's lease, then found the run finished: it did not sync a second time.
    expect(await duplicate).toMatchObject({ id: run.id, status: 'succeeded', attempts: 1 });
    expect(await h.services.ledger.runs.get(portal.id, run.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    // The queue's next delivery finds the run finished.
    const later = await runSync(
      h.services,
      { portalId: portal.id, runId: run.id, trigger: 'manual' },
      { dequeueCount: 3, maxDequeueCount: 5 },
    );
    expect(later).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  test('a failed renewal makes the next fence check fail without asking storage', async () => {
    const tenant = tenantWithApp(h.sim);
    const portal = await h.addPortal(tenant);
    const failures: Error[] = [];
    const lease = (await takeLease(h.services, portal.id, `r-${randomUUID()}.1.x`, (e) => failures.push(e), 400))!;
    await lease.fence.confirm();
    const { table, row } = await leaseRow(portal.id);
    await table.updateEntity(
      { partitionKey: 'lease', rowKey: portal.id, holder: 'someone-else', expiresAt: row.expiresAt },
      'Replace',
      { etag: row.etag },
    );
    await new Promise((resolve) => setTimeout(resolve, 250)); // one renewal (every 100 ms) has failed by now
    expect(failures.length).toBeGreaterThan(0);
    expect(() => lease.fence.assert()).toThrow(expect.objectContaining({ code: 'lease_lost' }));
    await lease.release();
  });
});

describe('the user links', () => {
  test('are not replaced over a bucket another writer changed since it was read', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 20, plans: 1, seed: 8 } });
    const portal = await h.addPortal(tenant);
    expect((await h.sync(portal)).status).toBe('succeeded');
    const state = await h.services.ledger.syncState.loadPortal(portal.id);
    const [objectId, link] = [...state.userLinks][0]!;
    // Another writer rewrites that user's bucket after this state was read.
    const table = await getTableClient(h.services.settings, 'userlinks');
    const stored = await table.getEntity(portal.id, userLinkBucket(objectId));
    await table.updateEntity({ partitionKey: portal.id, rowKey: userLinkBucket(objectId), touched: 1 }, 'Merge');
    const plan = {
      ...emptyPlan(portal.id, emptyCounts()),
      userLinks: { put: [{ objectId, contactId: link.contactId, skuIds: [] }], remove: [] },
    };
    await expect(h.services.ledger.syncState.apply(plan, state)).rejects.toMatchObject({
      code: 'storage_error',
      transient: true,
    });
    expect((await table.getEntity(portal.id, userLinkBucket(objectId))).etag).not.toBe(stored.etag);
    expect((await h.services.ledger.syncState.loadPortal(portal.id)).userLinks.get(objectId)).toEqual(link);
  });
});

describe('a crash between writing a new contact and claiming its addresses', () => {
  test('is completed by the retry: the same contact, found by its address, and no second one', async () => {
    const tenant = tenantWithApp(h.sim, {
      plans: [{ skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 5 }] }],
    });
    const address = `crash-${randomUUID().slice(0, 8)}@${String(tenant.domains[0])}`;
    tenant.addUser({ displayName: 'Crash Test', userPrincipalName: address, licenses: [{ sku: 'ENTERPRISEPACK' }] });
    const portal = await h.addPortal(tenant);
    // The address index is unreachable (as for a process that died right after the contact's write).
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { name: 'RestError', statusCode: 503 });
    const isIndex = (client: TableClient) => client.tableName.endsWith('contactaddresses');
    const create = jest.spyOn(TableClient.prototype, 'createEntity').mockImplementation(function (
      this: TableClient,
      ...args
    ) {
      return isIndex(this) ? Promise.reject(unreachable) : original.create.apply(this, args);
    });
    const batch = jest.spyOn(TableClient.prototype, 'submitTransaction').mockImplementation(function (
      this: TableClient,
      ...args
    ) {
      return isIndex(this) ? Promise.reject(unreachable) : original.batch.apply(this, args);
    });
    try {
      await expect(h.sync(portal)).rejects.toMatchObject({ transient: true });
    } finally {
      create.mockRestore();
      batch.mockRestore();
    }
    const contacts = await getTableClient(h.services.settings, 'contacts');
    const written = [];
    for await (const row of contacts.listEntities<{ email: string }>()) if (row.email === address) written.push(row);
    expect(written).toHaveLength(1);
    expect(await h.services.ledger.contacts.findByAddress(address)).toBeUndefined();

    expect((await h.sync(portal, 2)).status).toBe('succeeded');
    const found = await h.services.ledger.contacts.findByAddress(address);
    expect(found?.id).toBe(written[0]!.rowKey);
    const after = [];
    for await (const row of contacts.listEntities<{ email: string }>()) if (row.email === address) after.push(row);
    expect(after).toHaveLength(1);
  });
});

describe('the address index', () => {
  async function index(prefix: string) {
    const settings = { ...h.services.settings, tablePrefix: prefix };
    const table = new CountingTable(await getTableClient(settings, 'contactaddresses'), newStats());
    return { index: new AddressIndex(table, () => Promise.resolve(true)) };
  }

  test('is held whole by a run only up to a bound, and lookups above the scan threshold keep only the matches', async () => {
    const { index: addresses } = await index(`ai${randomUUID().slice(0, 6)}`);
    const claims = Array.from({ length: 300 }, (_, i) => ({ address: `user${i}@bound.example`, contactId: `c${i}` }));
    await addresses.claim(claims);
    expect((await addresses.loadAll(1000))?.size).toBe(300);
    expect(await addresses.loadAll(100)).toBeUndefined();

    const wanted = ['user1@bound.example', 'user299@bound.example', 'nobody@bound.example'];
    const found = await addresses.lookupMany(wanted, 0);
    expect(found).toEqual(
      new Map([
        ['user1@bound.example', 'c1'],
        ['user299@bound.example', 'c299'],
      ]),
    );
  });

  test('a run whose index is too large to hold looks its batches up and still finds every contact', async () => {
    const prefix = `ag${randomUUID().slice(0, 6)}`;
    const settings = { ...h.services.settings, tablePrefix: prefix };
    const contacts = new TableContactGateway(
      {
        contacts: new CountingTable(await getTableClient(settings, 'contacts'), newStats()),
        contactAddresses: new CountingTable(await getTableClient(settings, 'contactaddresses'), newStats()),
      },
      Date.now,
    );
    const made = [];
    for (let i = 0; i < 12; i += 1) {
      made.push(
        await contacts.create({
          id: randomUUID(),
          email: `p${i}@big.example`,
          aliases: [],
          displayName: `P ${i}`,
          origin: { kind: 'manual' },
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
        }),
      );
    }
    const lookup = contacts.addressLookup({ mayScan: true }, 5);
    const asked = new Set([
      ...made.map((c) => c.email),
      ...Array.from({ length: 5001 }, (_, i) => `x${i}@none.example`),
    ]);
    const found = await lookup(asked);
    expect(found.size).toBe(12);
    for (const contact of made) expect(found.get(contact.email)).toBe(contact.id);
  });
});
