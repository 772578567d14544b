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
  /** Requests to storage: every call, each page of a query counted apart. */
  requests: number;
}

export function newStats(): LedgerStats {
  return { entitiesRead: 0, entitiesWritten: 0, transactions: 0, requests: 0 };
}

/**
 * A table client that counts what it reads and writes into `stats`: the one place the ledger counts storage work
 * (a call that fails counts only as a request). Only the calls the ledger makes, with the SDK's own signatures.
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
    this.stats.requests += 1;
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
      this.stats.requests += 1;
      this.stats.entitiesRead += page.length;
      yield page;
    }
  }

  /** One page of a query from a continuation token of the SDK's (one request), with the next page's token. */
  async page<T extends object>(
    queryOptions: { filter?: string; select?: string[] },
    maxPageSize: number,
    continuationToken?: string,
  ): Promise<{ rows: TableEntityResult<T>[]; continuationToken?: string }> {
    const pages = this.client.listEntities<T>({ queryOptions }).byPage({ maxPageSize, continuationToken });
    this.stats.requests += 1;
    const first = await pages.next();
    const rows: TableEntityResult<T>[] = first.done ? [] : [...first.value];
    this.stats.entitiesRead += rows.length;
    return { rows, continuationToken: first.done ? undefined : first.value.continuationToken };
  }

  async createEntity<T extends object>(entity: TableEntity<T>): Promise<CreateTableEntityResponse> {
    this.stats.requests += 1;
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
    this.stats.requests += 1;
    const response = await this.client.updateEntity(entity, mode, options);
    this.stats.entitiesWritten += 1;
    return response.etag;
  }

  async upsertEntity<T extends object>(entity: TableEntity<T>, mode?: UpdateMode): Promise<void> {
    this.stats.requests += 1;
    await this.client.upsertEntity(entity, mode);
    this.stats.entitiesWritten += 1;
  }

  async deleteEntity(partitionKey: string, rowKey: string, options?: DeleteTableEntityOptions): Promise<void> {
    this.stats.requests += 1;
    await this.client.deleteEntity(partitionKey, rowKey, options);
    this.stats.entitiesWritten += 1;
  }

  async submitTransaction(actions: TransactionAction[]): Promise<TableTransactionResponse | undefined> {
    this.stats.requests += 1;
    const response = await this.client.submitTransaction(actions);
    this.stats.transactions += 1;
    this.stats.entitiesWritten += actions.length;
    return response;
  }
}
