import type { TransactionAction } from '@azure/data-tables';
import type { PurgeGateway } from '../domain/ledger';
import type { CountingTable } from './countingTable';
import { encodeKey } from './keys';
import { partitionFilter, queryAll, submitInBatches } from './tables';

/** Removes what the ledger holds of one portal in the tables partitioned by portal (contacts are shared: stay). */
export class TablePurgeGateway implements PurgeGateway {
  constructor(private readonly tables: CountingTable[]) {}

  async purgePortal(portalId: string): Promise<void> {
    const partitionKey = encodeKey(portalId);
    await Promise.all(
      this.tables.map(async (table) => {
        const rows = await queryAll(table, partitionFilter(partitionKey), ['RowKey']);
        await submitInBatches(
          table,
          rows.map((row): TransactionAction => ['delete', { partitionKey, rowKey: row.rowKey as string }]),
        );
      }),
    );
  }
}
