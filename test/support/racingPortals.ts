import type { TableClient } from '@azure/data-tables';
import type { Settings } from '../../src/config/settings';
import { TablePortalRepository } from '../../src/ledger/portals';
import { CountingTable, newStats } from '../../src/ledger/countingTable';
import { newTableClient, TABLES } from '../../src/storage/clients';

/**
 * A portal repository over the real portals table whose every write of a portal record is preceded by
 * `interfere(n, entity)` (n = 1, 2, ... counts those writes; `entity` is what is about to be written).
 * `interfere` makes another writer write first, through a repository of its own: the write that follows then
 * carries the ETag of a record that is no longer the stored one, exactly as when an admin's PATCH lands between
 * a run's read and write of the portal.
 */
export function racingPortalRepository(
  settings: Pick<Settings, 'storage' | 'tablePrefix'>,
  interfere: (write: number, entity: Record<string, unknown>) => Promise<unknown> | undefined,
): TablePortalRepository {
  const client = newTableClient(settings, TABLES.portals);
  let writes = 0;
  const wrapped = new Proxy(client, {
    get(target, property) {
      if (property === 'updateEntity') {
        return async (...args: Parameters<TableClient['updateEntity']>) => {
          writes += 1;
          await interfere(writes, args[0]);
          return target.updateEntity(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return new TablePortalRepository(new CountingTable(wrapped, newStats()));
}
