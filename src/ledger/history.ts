import type { TransactionAction } from '@azure/data-tables';
import type { HistoryGateway } from '../domain/ledger';
import {
  licenseSnapshotSchema,
  portalSnapshotSchema,
  type LicenseSnapshot,
  type PortalSnapshot,
} from '../domain/insights';
import { AppError } from '../domain/errors';
import type { CountingTable } from './countingTable';
import { encodeKey, odataString } from './keys';
import { forEachPage, partitionFilter, submitInBatches } from './tables';

/**
 * Daily snapshots, one partition per portal: `l|<skuId>|<YYYY-MM-DD>` per license and `p|<YYYY-MM-DD>` for the
 * portal, so one day of a portal is a few transactions and a license's history is one RowKey range.
 */
const licenseKey = (skuId: string, day: string) => `l|${encodeKey(skuId)}|${day}`;
const portalKey = (day: string) => `p|${day}`;

function parsed<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  row: object,
) {
  const result = schema.safeParse(row);
  if (!result.success) throw new AppError('internal_error', { detail: 'a stored snapshot is not valid' });
  return result.data;
}

export class TableHistoryGateway implements HistoryGateway {
  constructor(private readonly table: CountingTable) {}

  async putDay(
    portalId: string,
    licenses: (LicenseSnapshot & { skuId: string })[],
    portal: PortalSnapshot,
  ): Promise<void> {
    const partitionKey = encodeKey(portalId);
    const actions: TransactionAction[] = licenses.map(({ skuId, ...snapshot }) => [
      'upsert',
      { partitionKey, rowKey: licenseKey(skuId, snapshot.date), ...snapshot },
      'Replace',
    ]);
    actions.push(['upsert', { partitionKey, rowKey: portalKey(portal.date), ...portal }, 'Replace']);
    await submitInBatches(this.table, actions);
  }

  async deleteBefore(portalId: string, oldestDay: string): Promise<number> {
    const partitionKey = encodeKey(portalId);
    const expired: string[] = [];
    // Every kind of row carries its date; a partition of 25 months is scanned once a day at most.
    await forEachPage<{ date: string }>(
      this.table,
      `${partitionFilter(partitionKey)} and date lt ${odataString(oldestDay)}`,
      (rows) => {
        for (const row of rows) expired.push(row.rowKey as string);
      },
      ['RowKey'],
    );
    await submitInBatches(
      this.table,
      expired.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]),
    );
    return expired.length;
  }

  async licenseHistory(portalId: string, skuId: string, from: string, to: string): Promise<LicenseSnapshot[]> {
    return this.range(portalId, licenseKey(skuId, from), licenseKey(skuId, to), licenseSnapshotSchema);
  }

  async portalHistory(portalId: string, from: string, to: string): Promise<PortalSnapshot[]> {
    return this.range(portalId, portalKey(from), portalKey(to), portalSnapshotSchema);
  }

  /** Rows between two keys, both inclusive, in key (= date) order. */
  private async range<T>(
    portalId: string,
    fromKey: string,
    toKey: string,
    schema: Parameters<typeof parsed<T>>[0],
  ): Promise<T[]> {
    const out: T[] = [];
    const filter = `${partitionFilter(encodeKey(portalId))} and RowKey ge ${odataString(fromKey)} and RowKey le ${odataString(toKey)}`;
    await forEachPage<Record<string, unknown>>(this.table, filter, (rows) => {
      for (const row of rows) out.push(parsed(schema, row));
    });
    return out;
  }
}
