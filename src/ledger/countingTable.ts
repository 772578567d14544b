import type {
  CreateTableEntityResponse,
  DeleteTableEntityOptions,
  TableClient,
  TableEntity,
  TableEntityResult,
  TableTransactionResponse,
  TransactionAction,
  UpdateMode,
  UpdateTableEntityOptions,
} from '@azure/data-tables';

/** What the ledger did against Table Storage since it was made (a benchmark reports these). */
export interface LedgerStats {
  entitiesRead: number;
  entitiesWritten: number;
  /** submitTransaction calls (each up to 100 entities of one partition). */
  transactions: number;
}

export function newStats(): LedgerStats {
  return { entitiesRead: 0, entitiesWritten: 0, transactions: 0 };
}

/**
 * A table client that counts what it reads and writes into `stats`: the one place the ledger counts storage work
 * (a call that fails counts nothing). Only the calls the ledger makes, with the SDK's own signatures.
 */
export class CountingTable {
  constructor(
    private readonly client: TableClient,
    readonly stats: LedgerStats,
  ) {}

  /** The same table, counting into other stats (one operation's, see ScopedStats). */
  withStats(stats: LedgerStats): CountingTable {
    return new CountingTable(this.client, stats);
  }

  async getEntity<T extends object>(partitionKey: string, rowKey: string): Promise<TableEntityResult<T>> {
    const entity = await this.client.getEntity<T>(partitionKey, rowKey);
    this.stats.entitiesRead += 1;
    return entity;
  }

  /** The pages of a query, as they arrive. */
  async *pages<T extends object>(
    queryOptions: { filter?: string; select?: string[] },
    maxPageSize: number,
  ): AsyncGenerator<TableEntityResult<T>[]> {
    for await (const page of this.client.listEntities<T>({ queryOptions }).byPage({ maxPageSize })) {
      this.stats.entitiesRead += page.length;
      yield page;
    }
  }

  async createEntity<T extends object>(entity: TableEntity<T>): Promise<CreateTableEntityResponse> {
    const response = await this.client.createEntity(entity);
    this.stats.entitiesWritten += 1;
    return response;
  }

  /** Resolves with the entity's new ETag. */
  async updateEntity<T extends object>(
    entity: TableEntity<T>,
    mode?: UpdateMode,
    options?: UpdateTableEntityOptions,
  ): Promise<string | undefined> {
    const response = await this.client.updateEntity(entity, mode, options);
    this.stats.entitiesWritten += 1;
    return response.etag;
  }

  async upsertEntity<T extends object>(entity: TableEntity<T>, mode?: UpdateMode): Promise<void> {
    await this.client.upsertEntity(entity, mode);
    this.stats.entitiesWritten += 1;
  }

  async deleteEntity(partitionKey: string, rowKey: string, options?: DeleteTableEntityOptions): Promise<void> {
    await this.client.deleteEntity(partitionKey, rowKey, options);
    this.stats.entitiesWritten += 1;
  }

  async submitTransaction(actions: TransactionAction[]): Promise<TableTransactionResponse | undefined> {
    const response = await this.client.submitTransaction(actions);
    this.stats.transactions += 1;
    this.stats.entitiesWritten += actions.length;
    return response;
  }
}
