import { randomUUID } from 'node:crypto';
import type { Services } from '../../src/domain/ports';
import type { PortalRecord } from '../../src/domain/records';
import type { PortalRepository } from '../../src/domain/ledger';
import { changePortal } from '../../src/portals/portals';
import { failPoisonedRun } from '../../src/runs/poison';
import { newQueuedRun } from '../../src/domain/runs';
import { runSync } from '../../src/sync/runSync';
import { racingPortalRepository } from '../support/racingPortals';
import { startSyncHarness, tenantWithApp, type SyncHarness } from './harness';

/**
 * The three writers of a portal record (the sync recording its run, an admin's PATCH, the poison handler) each
 * with another writer landing between its read and its write of the record: both changes survive.
 */

let h: SyncHarness;
beforeAll(async () => {
  h = await startSyncHarness();
});
afterAll(async () => {
  await h.close();
});

/** The services with a portal repository that lets `interfere` write first (see racingPortalRepository). */
function racing(interfere: Parameters<typeof racingPortalRepository>[1]): Services {
  const portals: PortalRepository = racingPortalRepository(h.services.settings, interfere);
  return { ...h.services, ledger: { ...h.services.ledger, portals } };
}

/** Runs `write` the first time `when` holds for the entity about to be written. */
function once(
  when: (entity: Record<string, unknown>) => boolean,
  write: () => Promise<unknown>,
): Parameters<typeof racing>[0] {
  let done = false;
  return (_n, entity) => {
    if (done || !when(entity)) return undefined;
    done = true;
    return write();
  };
}

async function smallPortal(overrides: Partial<PortalRecord> = {}): Promise<PortalRecord> {
  const domain = `t${randomUUID().slice(0, 8)}.example.com`;
  const tenant = tenantWithApp(h.sim, {
    domains: [domain],
    plans: [{ skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 5 }] }],
  });
  tenant.addUser({
    id: randomUUID(),
    displayName: 'Ann Lee',
    userPrincipalName: `ann@${domain}`,
    licenses: [{ sku: 'ENTERPRISEPACK' }],
  });
  return h.addPortal(tenant, overrides);
}

const stored = (id: string) => h.services.ledger.portals.get(id);

test('the sync records its run on the portal without undoing an admin change made during its write', async () => {
  const portal = await smallPortal({ name: `Before ${randomUUID().slice(0, 6)}` });
  const renamed = `After ${randomUUID().slice(0, 6)}`;
  // The admin renames and pauses the portal right before the sync writes its result (lastSuccessAt and all).
  const services = racing(
    once(
      (entity) => 'lastSuccessAt' in entity,
      () => h.services.ledger.portals.modify(portal.id, (current) => ({ ...current, name: renamed, autoSync: false })),
    ),
  );
  const queued = newQueuedRun(portal.id, 'manual', new Date());
  await h.services.ledger.runs.create(queued);

  const run = await runSync(
    services,
    { portalId: portal.id, runId: queued.id, trigger: 'manual' },
    { dequeueCount: 1, maxDequeueCount: 5 },
  );

  expect(run.status).toBe('succeeded');
  const after = await stored(portal.id);
  expect(after).toMatchObject({ name: renamed, autoSync: false, lastRun: { id: run.id, status: 'succeeded' } });
  expect(Date.parse(after!.lastSuccessAt!)).not.toBeNaN();
  expect(Date.parse(after!.lastFullReadAt!)).not.toBeNaN();
  // The unique-name index followed the admin's rename (the sync wrote no stale name back).
  await expect(
    h.services.ledger.portals.create({ ...portal, id: randomUUID(), name: renamed.toUpperCase() }),
  ).rejects.toThrow(/already exists/);
});

test('an admin PATCH keeps the run fields the sync wrote between its read and its write', async () => {
  const portal = await smallPortal();
  const lastRun = { ...newQueuedRun(portal.id, 'schedule', new Date()), status: 'succeeded' as const };
  const { id, trigger, status, queuedAt, counts } = lastRun;
  const deltaLink = 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=written-meanwhile';
  const services = racing(
    once(
      () => true,
      () =>
        h.services.ledger.portals.modify(portal.id, (current) => ({
          ...current,
          lastRun: { id, trigger, status, queuedAt, counts },
          deltaLink,
        })),
    ),
  );

  const changed = await changePortal(services, portal.id, { autoSync: false });

  expect(changed).toMatchObject({ autoSync: false, lastRun: { id, status: 'succeeded' }, deltaLink });
  expect(await stored(portal.id)).toEqual(changed);
});

test('an admin PATCH of the tenant drops a delta link the sync wrote between its read and its write', async () => {
  const portal = await smallPortal();
  const services = racing(
    once(
      () => true,
      () =>
        h.services.ledger.portals.modify(portal.id, (current) => ({
          ...current,
          deltaLink: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=old-tenant',
          lastFullReadAt: new Date().toISOString(),
        })),
    ),
  );

  const changed = await changePortal(services, portal.id, {
    tenantId: 'fabrikam.onmicrosoft.com',
    // Another tenant needs its credential again.
    auth: { kind: 'clientSecret', clientSecret: 'fabrikam-secret' },
  });

  // The link belongs to the old tenant: derived from the record as stored at the write, not as first read.
  expect(changed.tenantId).toBe('fabrikam.onmicrosoft.com');
  expect(changed).not.toHaveProperty('deltaLink');
  expect(changed).not.toHaveProperty('lastFullReadAt');
  expect(await stored(portal.id)).toEqual(changed);
});

test('the poison handler records the failed run without undoing an admin change made meanwhile', async () => {
  const portal = await smallPortal();
  const run = { ...newQueuedRun(portal.id, 'manual', new Date()), status: 'running' as const, attempts: 5 };
  await h.services.ledger.runs.create(run);
  const services = racing(
    once(
      () => true,
      () => h.services.ledger.portals.modify(portal.id, (current) => ({ ...current, active: false })),
    ),
  );

  await failPoisonedRun(services, { portalId: portal.id, runId: run.id, trigger: 'manual' }, 5);

  expect(await stored(portal.id)).toMatchObject({ active: false, lastRun: { id: run.id, status: 'failed' } });
});

test('a run that read a tenant the admin has since replaced keeps none of its read state on the portal', async () => {
  const portal = await smallPortal();
  const otherTenant = randomUUID();
  // The admin points the portal at another tenant right before the sync writes its result.
  const services = racing(
    once(
      (entity) => 'lastSuccessAt' in entity,
      () =>
        changePortal(h.services, portal.id, {
          tenantId: otherTenant,
          auth: { kind: 'clientSecret', clientSecret: 'other-tenant-secret' },
        }),
    ),
  );
  const queued = newQueuedRun(portal.id, 'manual', new Date());
  await h.services.ledger.runs.create(queued);

  const run = await runSync(
    services,
    { portalId: portal.id, runId: queued.id, trigger: 'manual' },
    { dequeueCount: 1, maxDequeueCount: 5 },
  );

  expect(run.status).toBe('succeeded');
  const after = await stored(portal.id);
  expect(after).toMatchObject({ tenantId: otherTenant, lastRun: { id: run.id, status: 'succeeded' } });
  // The old tenant's read state would let the next run read a delta of the wrong tenant.
  expect(after?.lastFullReadAt).toBeUndefined();
  expect(after?.userLinksAt).toBeUndefined();
  expect(after?.deltaLink).toBeUndefined();
});
