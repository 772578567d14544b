import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { AppError } from '../domain/errors';

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

/** Table Storage takes at most 100 operations of one partition in a transaction. */
export const MAX_BATCH = 100;
/** Transactions (or point writes) in flight at once when a run writes many entities. */
export const WRITE_CONCURRENCY = 16;
/** Partition-range queries in flight at once when a run reads a large partition. */
export const READ_CONCURRENCY = 4;
/** Entities per page of a partition query (the service's maximum). */
export const PAGE_SIZE = 1000;

export function statusOf(error: unknown): number | undefined {
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
  client: TableClient,
  partitionKey: string,
  rowKey: string,
  stats: LedgerStats,
): Promise<TableEntityResult<T> | undefined> {
  try {
    const entity = await client.getEntity<T>(partitionKey, rowKey);
    stats.entitiesRead += 1;
    return entity;
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
  client: TableClient,
  partitionKey: string,
  rowKey: string,
  isOwner: (row: T) => boolean,
  stats: LedgerStats,
): Promise<void> {
  const row = await getOrUndefined<T>(client, partitionKey, rowKey, stats);
  if (!row || !isOwner(row)) return;
  try {
    await client.deleteEntity(partitionKey, rowKey, { etag: row.etag });
    stats.entitiesWritten += 1;
  } catch (error) {
    if (!isStatus(error, 404, 412)) throw error;
  }
}

/** All entities matching a filter, read in pages of 1,000. */
export async function queryAll<T extends object>(
  client: TableClient,
  filter: string | undefined,
  stats: LedgerStats,
  select?: string[],
): Promise<TableEntityResult<T>[]> {
  const out: TableEntityResult<T>[] = [];
  await forEachPage<T>(
    client,
    filter,
    stats,
    (page) => {
      for (const row of page) out.push(row);
    },
    select,
  );
  return out;
}

/** Hands each page of a query to `visit` as it arrives, so a large partition is never held whole. */
export async function forEachPage<T extends object>(
  client: TableClient,
  filter: string | undefined,
  stats: LedgerStats,
  visit: (rows: TableEntityResult<T>[]) => void,
  select?: string[],
): Promise<void> {
  for await (const page of queryPages<T>(client, filter, stats, select)) visit(page);
}

/** The pages of a query as they arrive; the next is read only when the caller asks for it. */
export async function* queryPages<T extends object>(
  client: TableClient,
  filter: string | undefined,
  stats: LedgerStats,
  select?: string[],
): AsyncGenerator<TableEntityResult<T>[]> {
  const queryOptions = { ...(filter ? { filter } : {}), ...(select ? { select } : {}) };
  for await (const page of client.listEntities<T>({ queryOptions }).byPage({ maxPageSize: PAGE_SIZE })) {
    stats.entitiesRead += page.length;
    yield page;
  }
}

/** Submits actions of ONE partition in transactions of up to 100. */
export async function submitInBatches(
  client: TableClient,
  actions: TransactionAction[],
  stats: LedgerStats,
): Promise<void> {
  for (let i = 0; i < actions.length; i += MAX_BATCH) {
    const batch = actions.slice(i, i + MAX_BATCH);
    await client.submitTransaction(batch);
    stats.transactions += 1;
    stats.entitiesWritten += batch.length;
  }
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

/** Runs `work` over the items with at most `limit` in flight; results keep the items' order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Counts of one operation that also add up in the ledger's totals (several runs may share one ledger). */
export class ScopedStats implements LedgerStats {
  private read = 0;
  private written = 0;
  private batches = 0;

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
}
