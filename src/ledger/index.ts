import type { Settings } from '../config/settings';
import { getTableClient, TABLES } from '../storage/clients';
import { TableLeaseRepository } from './leases';
import { TableLedgerRepository } from './ledger';
import { TablePortalRepository } from './portals';
import { TableRunRepository } from './runs';
import { newStats, type LedgerStats } from './tables';
import type { Ledger } from './types';

export { newRunId } from './keys';
export type { LedgerStats } from './tables';
export * from './types';

/** The ledger, plus what it has read and written since it was made (a benchmark reports these). */
export interface TableLedger extends Ledger {
  stats: LedgerStats;
}

export interface LedgerOptions {
  /** The clock of lease expiry and alias timestamps (tests move it). */
  now?: () => number;
}

/** The ledger in Azure Table Storage; its tables are created on first use in this process. */
export async function createLedger(
  settings: Pick<Settings, 'storage' | 'tablePrefix'>,
  options: LedgerOptions = {},
): Promise<TableLedger> {
  const now = options.now ?? Date.now;
  const [portals, runs, leases, licenses, consumers, contacts, contactAddresses, userLinks] = await Promise.all([
    getTableClient(settings, TABLES.portals),
    getTableClient(settings, TABLES.runs),
    getTableClient(settings, TABLES.leases),
    getTableClient(settings, TABLES.licenses),
    getTableClient(settings, TABLES.consumers),
    getTableClient(settings, TABLES.contacts),
    getTableClient(settings, TABLES.contactAddresses),
    getTableClient(settings, TABLES.userLinks),
  ]);
  const stats = newStats();
  return {
    stats,
    portals: new TablePortalRepository(portals, stats),
    runs: new TableRunRepository(runs, stats),
    leases: new TableLeaseRepository(leases, stats, now),
    ledger: new TableLedgerRepository({ licenses, consumers, contacts, contactAddresses, userLinks }, stats, now),
  };
}
