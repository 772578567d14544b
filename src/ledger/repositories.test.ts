import { emptyCounts, type PortalRecord, type RunRecord } from '../domain/records';
import { testSettings } from '../../test/support/env';
import { newRunId } from '../domain/runs';
import { ConflictError, createLedger, NotFoundError, type TableLedger } from './index';

const T0 = '2025-03-01T08:00:00.000Z';

function portal(id: string, name: string, overrides: Partial<PortalRecord> = {}): PortalRecord {
  return {
    id,
    name,
    tenantId: 'contoso.onmicrosoft.com',
    clientId: '11111111-2222-3333-4444-555555555555',
    cloud: 'global',
    authKind: 'clientSecret',
    active: true,
    autoSync: true,
    hasSecret: true,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function run(portalId: string, id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    portalId,
    trigger: 'manual',
    status: 'queued',
    queuedAt: T0,
    counts: emptyCounts(),
    graphRequests: 0,
    throttledRetries: 0,
    conflicts: [],
    attempts: 0,
    ...overrides,
  };
}

let clock = Date.parse(T0);
let store: TableLedger;

beforeAll(async () => {
  store = await createLedger(testSettings(), { now: () => clock });
});

describe('portals', () => {
  it('creates, reads, lists, updates and deletes a portal with all its fields', async () => {
    const created = portal('p-crud', 'Contoso', {
      username: 'admin@contoso.com',
      secretSetAt: T0,
      lastSuccessAt: T0,
      deltaLink: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc',
      lastFullReadAt: T0,
      lastRun: {
        id: 'r1',
        trigger: 'schedule',
        status: 'succeeded',
        queuedAt: T0,
        endedAt: T0,
        counts: { ...emptyCounts(), usersRead: 7 },
      },
    });
    await store.portals.create(created);
    expect(await store.portals.get('p-crud')).toEqual(created);
    expect((await store.portals.list()).map((p) => p.id)).toContain('p-crud');

    const changed = { ...created, active: false, deltaLink: undefined, updatedAt: '2025-03-02T08:00:00.000Z' };
    await store.portals.update(changed);
    expect(await store.portals.get('p-crud')).toEqual(changed);

    await store.portals.delete('p-crud');
    expect(await store.portals.get('p-crud')).toBeUndefined();
    // The name is free again.
    await store.portals.create(portal('p-crud-2', 'contoso'));
  });

  it('refuses a second portal whose name differs only in case', async () => {
    await store.portals.create(portal('p-dup-1', 'Fabrikam EU'));
    await expect(store.portals.create(portal('p-dup-2', ' FABRIKAM eu'))).rejects.toBeInstanceOf(ConflictError);
    expect(await store.portals.get('p-dup-2')).toBeUndefined();
  });

  it('moves the unique name on a rename and refuses a rename to a taken name', async () => {
    const a = await store.portals.create(portal('p-ren-a', 'Tailspin'));
    await store.portals.create(portal('p-ren-b', 'Wingtip'));

    await store.portals.update({ ...a, name: 'Tailspin Toys' });
    // The old name is free, the new one is taken.
    await store.portals.create(portal('p-ren-c', 'TAILSPIN'));
    await expect(store.portals.create(portal('p-ren-d', 'tailspin toys'))).rejects.toBeInstanceOf(ConflictError);

    await expect(store.portals.update({ ...a, name: 'wingtip' })).rejects.toBeInstanceOf(ConflictError);
    expect((await store.portals.get('p-ren-a'))?.name).toBe('Tailspin Toys');
  });

  it('accepts names with characters that table keys forbid', async () => {
    const odd = portal('p-odd', "Contoso / EU \\ #1 ? 'x' 100%");
    await store.portals.create(odd);
    expect((await store.portals.get('p-odd'))?.name).toBe(odd.name);
    await expect(store.portals.create(portal('p-odd-2', odd.name.toUpperCase()))).rejects.toBeInstanceOf(ConflictError);
  });

  it('answers NotFoundError when updating a portal that does not exist', async () => {
    await expect(store.portals.update(portal('p-missing', 'Nobody'))).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('runs', () => {
  it('makes run ids that sort newest first', () => {
    const older = newRunId(new Date('2025-01-01T00:00:00Z'));
    const newer = newRunId(new Date('2025-01-01T00:00:00.001Z'));
    expect([older, newer].sort()).toEqual([newer, older]);
    expect(newRunId(new Date('2025-01-01T00:00:00Z'))).not.toBe(older);
  });

  it("lists a portal's runs newest first, up to a limit", async () => {
    const ids = [0, 1, 2, 3, 4].map((i) => newRunId(Date.parse(T0) + i * 60_000));
    await store.runs.create(run('p-runs', ids[0] as string));
    await store.runs.createMany(ids.slice(1).map((id) => run('p-runs', id)));
    await store.runs.create(run('p-other', newRunId(Date.parse(T0) + 10 * 60_000)));

    expect((await store.runs.list('p-runs')).map((r) => r.id)).toEqual([...ids].reverse());
    expect((await store.runs.list('p-runs', 2)).map((r) => r.id)).toEqual([ids[4], ids[3]]);
  });

  it('updates a run and deletes all runs of one portal only', async () => {
    const id = newRunId(Date.parse(T0));
    const queued = run('p-runs-2', id);
    await store.runs.create(queued);
    const done = {
      ...queued,
      status: 'failed' as const,
      startedAt: T0,
      endedAt: T0,
      errorCode: 'throttled',
      errorMessage: 'slow down',
      conflicts: [{ objectId: 'o1', userPrincipalName: 'a@x.com', addresses: ['a@x.com'], contactIds: ['c1', 'c2'] }],
      counts: { ...emptyCounts(), conflicts: 1 },
    };
    await store.runs.update(done);
    expect(await store.runs.get('p-runs-2', id)).toEqual(done);

    await store.runs.create(run('p-runs-3', id));
    await store.runs.deleteAll('p-runs-2');
    expect(await store.runs.list('p-runs-2')).toEqual([]);
    expect(await store.runs.get('p-runs-3', id)).toBeDefined();
  });

  it('keeps a run with a huge list of conflicts storable', async () => {
    const conflicts = Array.from({ length: 5_000 }, (_, i) => ({
      objectId: `object-${i}-${'x'.repeat(40)}`,
      userPrincipalName: `user${i}@contoso.com`,
      addresses: [`user${i}@contoso.com`, `alias${i}@contoso.com`],
      contactIds: [`c-${i}-a`, `c-${i}-b`],
    }));
    const id = newRunId();
    await store.runs.create(run('p-runs-big', id, { conflicts, counts: { ...emptyCounts(), conflicts: 5_000 } }));
    const stored = await store.runs.get('p-runs-big', id);
    expect(stored?.counts.conflicts).toBe(5_000);
    expect(stored?.conflicts.length).toBeGreaterThan(1_000);
    expect(stored?.conflicts[0]).toEqual(conflicts[0]);
  });
});

describe('leases', () => {
  it('lets exactly one of two concurrent acquires win', async () => {
    const results = await Promise.all([
      store.leases.acquire('p-lease-race', 'worker-a', 60_000),
      store.leases.acquire('p-lease-race', 'worker-b', 60_000),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results[0] ? 'worker-a' : 'worker-b';
    expect(await store.leases.holder('p-lease-race')).toBe(winner);
  });

  it('takes a free lease and releases it without reading it (one call each)', async () => {
    const read = store.stats.entitiesRead;
    const written = store.stats.entitiesWritten;
    expect(await store.leases.acquire('p-lease-quick', 'worker', 60_000)).toBe(true);
    await store.leases.release('p-lease-quick', 'worker');
    expect(store.stats.entitiesRead - read).toBe(0);
    expect(store.stats.entitiesWritten - written).toBe(2);
    expect(await store.leases.holder('p-lease-quick')).toBeUndefined();
  });

  it('lets exactly one of many concurrent acquires of an expired lease win', async () => {
    expect(await store.leases.acquire('p-lease-expired', 'old', 1_000)).toBe(true);
    clock += 2_000;
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((h) => store.leases.acquire('p-lease-expired', h, 60_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('refuses another holder until the lease expires, then hands it over', async () => {
    expect(await store.leases.acquire('p-lease', 'first', 30_000)).toBe(true);
    expect(await store.leases.acquire('p-lease', 'second', 30_000)).toBe(false);
    expect(await store.leases.renew('p-lease', 'second', 30_000)).toBe(false);

    clock += 20_000;
    expect(await store.leases.renew('p-lease', 'first', 30_000)).toBe(true);
    clock += 20_000;
    // Renewed: still held 40 s after the first acquire.
    expect(await store.leases.acquire('p-lease', 'second', 30_000)).toBe(false);
    expect(await store.leases.holder('p-lease')).toBe('first');

    clock += 31_000;
    expect(await store.leases.holder('p-lease')).toBeUndefined();
    expect(await store.leases.acquire('p-lease', 'second', 30_000)).toBe(true);
    // The old holder can neither renew nor release what is now someone else's.
    expect(await store.leases.renew('p-lease', 'first', 30_000)).toBe(false);
    await store.leases.release('p-lease', 'first');
    expect(await store.leases.holder('p-lease')).toBe('second');

    await store.leases.release('p-lease', 'second');
    expect(await store.leases.holder('p-lease')).toBeUndefined();
    expect(await store.leases.acquire('p-lease', 'third', 30_000)).toBe(true);
  });
});
