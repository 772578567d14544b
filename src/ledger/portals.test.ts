import { testSettings } from '../../test/support/env';
import { racingPortalRepository } from '../../test/support/racingPortals';
import { AppError } from '../domain/errors';
import { emptyCounts, type LastRun, type PortalRecord } from '../domain/records';
import { ConflictError, createLedger, type TableLedger } from './index';
import { MODIFY_ATTEMPTS } from './portals';

/**
 * PortalRepository.modify against Azurite: two writers of one portal record (the sync recording its run, an admin
 * changing the portal) where one writes between the other's read and write. The interleaving is forced at the
 * storage client (see racingPortalRepository): the other writer writes right before each write of the racing
 * repository goes out, so that write carries an ETag that is already outdated.
 */

const T0 = '2025-03-01T08:00:00.000Z';
const T1 = '2025-03-01T09:00:00.000Z';

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

function lastRun(id: string): LastRun {
  return {
    id,
    trigger: 'schedule',
    status: 'succeeded',
    queuedAt: T1,
    startedAt: T1,
    endedAt: T1,
    counts: { ...emptyCounts(), usersRead: 3 },
  };
}

let settings: ReturnType<typeof testSettings>;
let store: TableLedger;

beforeAll(async () => {
  settings = testSettings();
  store = await createLedger(settings);
});

function racingRepository(interfere: (write: number) => Promise<unknown> | undefined) {
  return racingPortalRepository(settings, interfere);
}

describe('PortalRepository.modify', () => {
  it('re-reads and re-applies its change when another writer wrote in between, so neither change is lost', async () => {
    await store.portals.create(portal('p-race', 'Race'));
    // The admin deactivates the portal while the sync is between its read and its write.
    const sync = racingRepository((write) =>
      write === 1
        ? store.portals.modify('p-race', (current) => ({ ...current, active: false, updatedAt: T1 }))
        : undefined,
    );
    const seen: boolean[] = [];
    const written = await sync.modify('p-race', (current) => {
      seen.push(current.active);
      return { ...current, lastRun: lastRun('r1'), lastSuccessAt: T1 };
    });

    // The first attempt saw the old record and its write was refused; the second saw the admin's change.
    expect(seen).toEqual([true, false]);
    const stored = await store.portals.get('p-race');
    expect(stored).toMatchObject({ active: false, updatedAt: T1, lastRun: lastRun('r1'), lastSuccessAt: T1 });
    expect(written).toEqual(stored);
  });

  it('keeps the run fields the sync wrote meanwhile when an admin change is applied', async () => {
    await store.portals.create(portal('p-race-2', 'Race Two', { deltaLink: 'https://graph/delta?old' }));
    const admin = racingRepository((write) =>
      write === 1
        ? store.portals.modify('p-race-2', (current) => ({
            ...current,
            lastRun: lastRun('r2'),
            deltaLink: 'https://graph/delta?new',
          }))
        : undefined,
    );
    await admin.modify('p-race-2', (current) => ({ ...current, autoSync: false }));

    expect(await store.portals.get('p-race-2')).toMatchObject({
      autoSync: false,
      lastRun: lastRun('r2'),
      deltaLink: 'https://graph/delta?new',
    });
  });

  it('loses the concurrent change with update (last writer wins), which is what modify is for', async () => {
    await store.portals.create(portal('p-race-3', 'Race Three'));
    const read = (await store.portals.get('p-race-3'))!;
    await store.portals.modify('p-race-3', (current) => ({ ...current, active: false }));
    await store.portals.update({ ...read, lastRun: lastRun('r3') });
    // Shows that the interleaving of the tests above is a real hazard: the admin's change is gone.
    expect(await store.portals.get('p-race-3')).toMatchObject({ active: true, lastRun: lastRun('r3') });
  });

  it('moves the unique name on a rename, also when its first write lost to another writer', async () => {
    await store.portals.create(portal('p-ren-1', 'Alpha'));
    const admin = racingRepository((write) =>
      write === 1 ? store.portals.modify('p-ren-1', (current) => ({ ...current, lastRun: lastRun('r4') })) : undefined,
    );
    let calls = 0;
    await admin.modify('p-ren-1', (current) => {
      calls += 1;
      return { ...current, name: 'Beta' };
    });

    expect(calls).toBe(2);
    expect(await store.portals.get('p-ren-1')).toMatchObject({ name: 'Beta', lastRun: lastRun('r4') });
    // The old name is free, the new one is taken.
    await store.portals.create(portal('p-ren-1b', 'ALPHA'));
    await expect(store.portals.create(portal('p-ren-1c', 'beta'))).rejects.toBeInstanceOf(ConflictError);
  });

  it('keeps a rename another writer made in between, and the name index with it', async () => {
    await store.portals.create(portal('p-ren-2', 'Gamma'));
    const sync = racingRepository((write) =>
      write === 1 ? store.portals.modify('p-ren-2', (current) => ({ ...current, name: 'Delta' })) : undefined,
    );
    await sync.modify('p-ren-2', (current) => ({ ...current, lastRun: lastRun('r5') }));

    // A whole-record write of what the sync read first would have put "Gamma" back while the index says "Delta".
    expect(await store.portals.get('p-ren-2')).toMatchObject({ name: 'Delta', lastRun: lastRun('r5') });
    await store.portals.create(portal('p-ren-2b', 'gamma'));
    await expect(store.portals.create(portal('p-ren-2c', 'DELTA'))).rejects.toBeInstanceOf(ConflictError);
  });

  it('keeps the name row when the other writer renamed to the same name in between', async () => {
    await store.portals.create(portal('p-ren-3', 'Epsilon'));
    const first = racingRepository((write) =>
      write === 1 ? store.portals.modify('p-ren-3', (current) => ({ ...current, name: 'Epsilon 2' })) : undefined,
    );
    // Renames unless already done: on its second try it finds the name given and writes nothing.
    const written = await first.modify('p-ren-3', (current) =>
      current.name === 'Epsilon 2' ? undefined : { ...current, name: 'Epsilon 2' },
    );

    expect(written).toMatchObject({ name: 'Epsilon 2' });
    expect(await store.portals.get('p-ren-3')).toMatchObject({ name: 'Epsilon 2' });
    await expect(store.portals.create(portal('p-ren-3b', 'EPSILON 2'))).rejects.toBeInstanceOf(ConflictError);
    await store.portals.create(portal('p-ren-3c', 'epsilon'));
  });

  it('gives up with a transient storage_error when every write loses, and frees the name it claimed', async () => {
    await store.portals.create(portal('p-busy', 'Busy'));
    let n = 0;
    const busy = racingRepository(() =>
      store.portals.modify('p-busy', (current) => ({
        ...current,
        updatedAt: new Date(Date.parse(T1) + ++n).toISOString(),
      })),
    );
    let calls = 0;
    const attempt = busy.modify('p-busy', (current) => {
      calls += 1;
      return { ...current, name: 'Busy Renamed' };
    });

    const error: unknown = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'storage_error', transient: true });
    expect(calls).toBe(MODIFY_ATTEMPTS);
    expect(await store.portals.get('p-busy')).toMatchObject({ name: 'Busy' });
    // Neither name is lost: the claimed one is free again, the kept one still taken.
    await store.portals.create(portal('p-busy-2', 'busy renamed'));
    await expect(store.portals.create(portal('p-busy-3', 'BUSY'))).rejects.toBeInstanceOf(ConflictError);
  });

  it('answers undefined when the portal was deleted in between, without recreating it or keeping a claimed name', async () => {
    await store.portals.create(portal('p-gone', 'Gone'));
    const sync = racingRepository((write) => (write === 1 ? store.portals.delete('p-gone') : undefined));
    const written = await sync.modify('p-gone', (current) => ({
      ...current,
      name: 'Gone Renamed',
      lastRun: lastRun('r6'),
    }));

    expect(written).toBeUndefined();
    expect(await store.portals.get('p-gone')).toBeUndefined();
    await store.portals.create(portal('p-gone-2', 'gone renamed'));
    await store.portals.create(portal('p-gone-3', 'gone'));
  });

  it('writes nothing when the change answers undefined, and answers undefined for a portal that does not exist', async () => {
    await store.portals.create(portal('p-noop', 'Noop'));
    const sync = racingRepository(() => {
      throw new Error('nothing may be written');
    });
    expect(await sync.modify('p-noop', () => undefined)).toEqual(await store.portals.get('p-noop'));

    const change = jest.fn((current: PortalRecord) => current);
    expect(await sync.modify('p-nobody', change)).toBeUndefined();
    expect(change).not.toHaveBeenCalled();
  });

  it('after a read or a write of its own, writes the next change without reading first; a write by another instance in between is kept', async () => {
    const mine = await createLedger(settings);
    const other = await createLedger(settings);
    await mine.portals.create(portal('p-known', 'Known'));
    await mine.portals.get('p-known');

    const read0 = mine.stats.entitiesRead;
    await mine.portals.modify('p-known', (current) => ({ ...current, lastRun: lastRun('r1') }));
    await mine.portals.modify('p-known', (current) => ({ ...current, lastSuccessAt: T1 }));
    expect(mine.stats.entitiesRead).toBe(read0); // both writes went out on the ETag known from the last one

    // Another instance deactivates the portal: the known version is outdated, its write refused, the record re-read.
    await other.portals.modify('p-known', (current) => ({ ...current, active: false }));
    await mine.portals.modify('p-known', (current) => ({ ...current, lastRun: lastRun('r2') }));
    expect(await other.portals.get('p-known')).toMatchObject({
      active: false,
      lastRun: lastRun('r2'),
      lastSuccessAt: T1,
    });
  });
});
