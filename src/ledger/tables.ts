import type { TableEntityResult, TransactionAction } from '@azure/data-tables';
import { AppError } from '../domain/errors';
import type { Cursor } from '../domain/paging';
import { odataString } from './keys';
import type { CountingTable, LedgerStats } from './countingTable';

/** Table Storage takes at most 100 operations of one partition in a transaction. */
export const MAX_BATCH = 100;
/** Transactions (or point writes) in flight at once when a run writes many entities. */
export const WRITE_CONCURRENCY = 16;
/** Partition-range queries in flight at once when a run reads a large partition. */
export const READ_CONCURRENCY = 4;
/** Entities per page of a partition query (the service's maximum). */
export const PAGE_SIZE = 1000;

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

export function isStatus(error: unknown, ...statuses: number[]): boolean {
  const status = statusOf(error);
  return status !== undefined && statuses.includes(status);
}

/** Someone else changed what we read: worth a retry of the whole run, which reads afresh. */
export function concurrentChange(what: string, cause?: unknown): AppError {
  return new AppError('storage_error', {
    transient: true,
    detail: `${what} was changed by another writer meanwhile`,
    cause,
  });
}

/** Storage errors that are worth retrying (unreachable, throttled, server side) become transient AppErrors. */
export function asStorageError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  // Only the SDK's errors: anything else (a bug of ours) must not be retried as if storage were down.
  if (typeof error !== 'object' || error === null || (error as { name?: unknown }).name !== 'RestError') return error;
  const status = statusOf(error);
  if (status === undefined || status === 408 || status === 429 || status >= 500) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
    return new AppError('storage_error', { transient: true, detail: code ?? status?.toString(), cause: error });
  }
  return error;
}

export async function getOrUndefined<T extends object>(
  table: CountingTable,
  partitionKey: string,
  rowKey: string,
): Promise<TableEntityResult<T> | undefined> {
  try {
    return await table.getEntity<T>(partitionKey, rowKey);
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/**
 * Deletes a row only while `isOwner` holds for it, guarded by the ETag it was read with: a row already gone, or
 * taken over meanwhile, is no longer the caller's to delete.
 */
export async function deleteIfOwned<T extends object>(
  table: CountingTable,
  partitionKey: string,
  rowKey: string,
  isOwner: (row: T) => boolean,
): Promise<void> {
  const row = await getOrUndefined<T>(table, partitionKey, rowKey);
  if (!row || !isOwner(row)) return;
  try {
    await table.deleteEntity(partitionKey, rowKey, { etag: row.etag });
  } catch (error) {
    if (!isStatus(error, 404, 412)) throw error;
  }
}

/** All entities matching a filter, read in pages of 1,000. */
export async function queryAll<T extends object>(
  table: CountingTable,
  filter: string | undefined,
  select?: string[],
): Promise<TableEntityResult<T>[]> {
  const out: TableEntityResult<T>[] = [];
  await forEachPage<T>(
    table,
    filter,
    (page) => {
      for (const row of page) out.push(row);
    },
    select,
  );
  return out;
}

/** Hands each page of a query to `visit` as it arrives, so a large partition is never held whole. */
export async function forEachPage<T extends object>(
  table: CountingTable,
  filter: string | undefined,
  visit: (rows: TableEntityResult<T>[]) => void,
  select?: string[],
): Promise<void> {
  for await (const page of queryPages<T>(table, filter, select)) visit(page);
}

/** The pages of a query as they arrive; the next is read only when the caller asks for it. */
export function queryPages<T extends object>(
  table: CountingTable,
  filter: string | undefined,
  select?: string[],
): AsyncGenerator<TableEntityResult<T>[]> {
  return table.pages<T>({ ...(filter ? { filter } : {}), ...(select ? { select } : {}) }, PAGE_SIZE);
}

/**
 * One page of a query, at most `limit` rows, from a cursor made by an earlier page (the service's next partition
 * and row keys; see src/domain/paging.ts). The service may answer fewer rows with a cursor: the caller follows it.
 */
export async function queryPage<T extends object>(
  table: CountingTable,
  filter: string,
  limit: number,
  cursor?: Cursor,
): Promise<{ rows: TableEntityResult<T>[]; cursor?: Cursor }> {
  // The SDK's own token: base64 of { nextPartitionKey, nextRowKey }.
  const sdkToken = cursor
    ? Buffer.from(JSON.stringify({ nextPartitionKey: cursor[0], nextRowKey: cursor[1] }), 'utf8').toString('base64')
    : undefined;
  const page = await table.page<T>({ filter }, limit, sdkToken);
  if (!page.continuationToken) return { rows: page.rows };
  const next = JSON.parse(Buffer.from(page.continuationToken, 'base64').toString('utf8')) as {
    nextPartitionKey: string;
    nextRowKey?: string;
  };
  return {
    rows: page.rows,
    cursor: next.nextRowKey ? [next.nextPartitionKey, next.nextRowKey] : [next.nextPartitionKey],
  };
}

/** Submits actions of ONE partition in transactions of up to 100. */
export async function submitInBatches(table: CountingTable, actions: TransactionAction[]): Promise<void> {
  for (let i = 0; i < actions.length; i += MAX_BATCH) await table.submitTransaction(actions.slice(i, i + MAX_BATCH));
}

export function partitionFilter(partitionKey: string): string {
  return `PartitionKey eq ${odataString(partitionKey)}`;
}

export function rangeFilter(filter: string, range: { from?: string; to?: string }): string {
  const from = range.from === undefined ? '' : ` and RowKey ge ${odataString(range.from)}`;
  const to = range.to === undefined ? '' : ` and RowKey lt ${odataString(range.to)}`;
  return `${filter}${from}${to}`;
}

export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Counts of one operation that also add up in the ledger's totals (several runs may share one ledger). */
export class ScopedStats implements LedgerStats {
  private read = 0;
  private written = 0;
  private batches = 0;
  private calls = 0;

  constructor(private readonly parent: LedgerStats) {}

  get entitiesRead(): number {
    return this.read;
  }
  set entitiesRead(value: number) {
    this.parent.entitiesRead += value - this.read;
    this.read = value;
  }
  get entitiesWritten(): number {
    return this.written;
  }
  set entitiesWritten(value: number) {
    this.parent.entitiesWritten += value - this.written;
    this.written = value;
  }
  get transactions(): number {
    return this.batches;
  }
  set transactions(value: number) {
    this.parent.transactions += value - this.batches;
    this.batches = value;
  }
  get requests(): number {
    return this.calls;
  }
  set requests(value: number) {
    this.parent.requests += value - this.calls;
    this.calls = value;
  }
}
