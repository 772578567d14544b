import type { TransactionAction } from '@azure/data-tables';
import { mapConcurrent } from '../util/async';
import type { CountingTable } from './countingTable';
import { concurrentChange, groupBy, isStatus, MAX_BATCH, WRITE_CONCURRENCY } from './tables';

/** A write of one partition whose entity is made only when its transaction goes out. */
export interface LazyAction {
  rowKey: string;
  make: () => TransactionAction;
}

/**
 * Splits writes into rounds in which no entity (by `key`) appears twice, keeping their order: the writes of one
 * round may go in parallel, and an entity named again (e.g. a link removed and made anew) waits for the next.
 */
function roundsByEntity<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const seen = new Map<string, number>();
  const rounds: T[][] = [];
  for (const item of items) {
    const k = key(item);
    const round = seen.get(k) ?? 0;
    seen.set(k, round + 1);
    (rounds[round] ??= []).push(item);
  }
  return rounds;
}

/** Chunks of at most 100 actions of one partition, never two actions on the same entity in one chunk. */
export function transactionChunks(actions: TransactionAction[]): TransactionAction[][] {
  const rounds = roundsByEntity(actions, (action) => `${action[1].partitionKey}\u0000${action[1].rowKey}`);
  return rounds.flatMap((round) => {
    const chunks: TransactionAction[][] = [];
    for (const group of groupBy(round, (action) => action[1].partitionKey).values()) {
      for (let i = 0; i < group.length; i += MAX_BATCH) chunks.push(group.slice(i, i + MAX_BATCH));
    }
    return chunks;
  });
}

/**
 * Writes actions of ONE partition in transactions of up to 100, the entities made chunk by chunk as they go
 * out. A transaction is all or nothing; when one fails because an entity was created or deleted meanwhile, its
 * actions are redone one by one: a link someone made meanwhile stays theirs, a row already gone stays gone. An
 * ETag mismatch means someone changed what the plan was made from: a transient error, so the run starts over
 * from a fresh read. `what` names the entity in that error.
 */
export async function writeInTransactions(
  table: CountingTable,
  actions: LazyAction[],
  what: string,
  createsMayExist = false,
): Promise<void> {
  for (const round of roundsByEntity(actions, (action) => action.rowKey)) {
    const starts: number[] = [];
    for (let i = 0; i < round.length; i += MAX_BATCH) starts.push(i);
    await mapConcurrent(starts, WRITE_CONCURRENCY, (start) =>
      submitChunk(
        table,
        round.slice(start, start + MAX_BATCH).map((action) => action.make()),
        what,
        createsMayExist,
      ),
    );
  }
}

/** One transaction; when an entity was created or deleted meanwhile, its actions one by one. */
async function submitChunk(
  table: CountingTable,
  chunk: TransactionAction[],
  what: string,
  createsMayExist: boolean,
): Promise<void> {
  try {
    await table.submitTransaction(chunk);
    return;
  } catch (error) {
    if (isStatus(error, 412)) throw concurrentChange(what, error);
    if (!isStatus(error, 404, 409)) throw error;
  }
  for (const action of chunk) await submitOne(table, action, what, createsMayExist);
}

async function submitOne(
  table: CountingTable,
  action: TransactionAction,
  what: string,
  createsMayExist: boolean,
): Promise<void> {
  const [kind, entity] = action;
  try {
    if (kind === 'create') await table.createEntity(entity);
    else if (kind === 'delete') await table.deleteEntity(entity.partitionKey, entity.rowKey);
    else if (kind === 'update') await table.updateEntity(entity, action[2] ?? 'Merge', action[3]);
    else await table.upsertEntity(entity, action[2] ?? 'Merge');
  } catch (error) {
    if (kind === 'create' && createsMayExist && isStatus(error, 409)) return;
    if (kind === 'delete' && isStatus(error, 404)) return;
    // A link the plan updates was unlinked meanwhile: gone is what the next run finds too.
    if (kind === 'update' && action[2] === 'Merge' && isStatus(error, 404)) return;
    if (isStatus(error, 404, 409, 412)) throw concurrentChange(what, error);
    throw error;
  }
}
