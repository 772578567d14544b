import type { Settings } from '../config/settings';
import type { Ledger } from '../domain/ledger';
import { getTableClient, TABLES, type TableBaseName } from '../storage/clients';
import { TableAlertGateway } from './alerts';
import { TableChannelGateway, TableDeliveryGateway } from './channels';
import { TableContactGateway } from './contacts';
import { CountingTable, newStats, type LedgerStats } from './countingTable';
import { TableHistoryGateway } from './history';
import { TableHolderGateway } from './holders';
import { TableLeaseRepository } from './leases';
import { TablePriceGateway } from './prices';
import { TableRenewalGateway } from './renewals';
import { TableLicenseGateway } from './licenses';
import { TablePortalRepository } from './portals';
import { TablePurgeGateway } from './purge';
import { TableRunRepository } from './runs';
import { TableSyncStateGateway } from './syncState';

export type { LedgerStats } from './countingTable';
export * from '../domain/ledger';

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
  const stats = newStats();
  const table = async (name: TableBaseName) => new CountingTable(await getTableClient(settings, name), stats);
  const [
    portals,
    runs,
    leases,
    licenses,
    consumers,
    contacts,
    contactAddresses,
    userLinks,
    alerts,
    alertRules,
    channels,
    deliveries,
    history,
    prices,
    renewals,
  ] = await Promise.all([
    table(TABLES.portals),
    table(TABLES.runs),
    table(TABLES.leases),
    table(TABLES.licenses),
    table(TABLES.consumers),
    table(TABLES.contacts),
    table(TABLES.contactAddresses),
    table(TABLES.userLinks),
    table(TABLES.alerts),
    table(TABLES.alertRules),
    table(TABLES.channels),
    table(TABLES.deliveries),
    table(TABLES.history),
    table(TABLES.prices),
    table(TABLES.renewals),
  ]);
  const contactGateway = new TableContactGateway({ contacts, contactAddresses }, now);
  return {
    stats,
    portals: new TablePortalRepository(portals),
    runs: new TableRunRepository(runs),
    leases: new TableLeaseRepository(leases, now),
    syncState: new TableSyncStateGateway({ licenses, consumers, userLinks }, contactGateway),
    contacts: contactGateway,
    licenses: new TableLicenseGateway({ licenses, consumers }, contactGateway, now),
    purge: new TablePurgeGateway([licenses, consumers, userLinks, history]),
    alerts: new TableAlertGateway({ alerts, rules: alertRules }),
    channels: new TableChannelGateway(channels),
    deliveries: new TableDeliveryGateway(deliveries),
    history: new TableHistoryGateway(history),
    prices: new TablePriceGateway(prices),
    holders: new TableHolderGateway(consumers),
    renewals: new TableRenewalGateway(renewals),
  };
}
