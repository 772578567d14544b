import { mapConcurrent } from '../util/async';
import type { TransactionAction } from '@azure/data-tables';
import type { CountingTable } from './countingTable';
import type { RunRecord } from '../domain/records';
import { MAX_JSON_CHARS, runCodec } from './entities';
import { encodeKey, odataString } from './keys';
import {
  getOrUndefined,
  groupBy,
  isStatus,
  PAGE_SIZE,
  partitionFilter,
  queryAll,
  queryPage,
  submitInBatches,
} from './tables';
import type { Cursor } from '../domain/paging';
import { NotFoundError, type CursorPage, type RunRepository } from '../domain/ledger';

/**
 * Run records: one partition per portal, RowKey = run id, which sorts newest first. A run with a huge list of
 * conflicts keeps as many as fit in one entity; `counts.conflicts` still says how many there were.
 */
export class TableRunRepository implements RunRepository {
  constructor(private readonly table: CountingTable) {}

  async create(run: RunRecord): Promise<void> {
    await this.table.createEntity(this.toEntity(run));
  }

  async put(run: RunRecord): Promise<void> {
    try {
      await this.create(run);
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      await this.update(run);
    }
  }

  async createMany(runs: RunRecord[]): Promise<void> {
    const byPortal = [...groupBy(runs, (run) => run.portalId).values()];
    await mapConcurrent(byPortal, 16, async (group) => {
      if (group.length === 1) return this.create(group[0] as RunRecord);
      const actions: TransactionAction[] = group.map((run) => ['create', this.toEntity(run)]);
      return submitInBatches(this.table, actions);
    });
  }

  async get(portalId: string, runId: string): Promise<RunRecord | undefined> {
    const entity = await getOrUndefined(this.table, encodeKey(portalId), encodeKey(runId));
    return entity && runCodec.fromEntity(entity);
  }

  async list(portalId: string, limit = 50): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    if (limit <= 0) return runs;
    const filter = `PartitionKey eq ${odataString(encodeKey(portalId))}`;
    for await (const page of this.table.pages({ filter }, Math.min(limit, PAGE_SIZE))) {
      for (const entity of page) {
        runs.push(runCodec.fromEntity(entity));
        if (runs.length >= limit) return runs;
      }
    }
    return runs;
  }

  async page(portalId: string, limit: number, cursor?: Cursor): Promise<CursorPage<RunRecord>> {
    const page = await queryPage(this.table, partitionFilter(encodeKey(portalId)), limit, cursor);
    return { items: page.rows.map((row) => runCodec.fromEntity(row)), ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  async update(run: RunRecord): Promise<void> {
    try {
      await this.table.updateEntity(this.toEntity(run), 'Replace', { etag: '*' });
    } catch (error) {
      if (isStatus(error, 404))
        throw new NotFoundError(`Run ${run.id} of portal access ${run.portalId} does not exist.`);
      throw error;
    }
  }

  async deleteAll(portalId: string): Promise<void> {
    const partitionKey = encodeKey(portalId);
    const keys = await queryAll(this.table, `PartitionKey eq ${odataString(partitionKey)}`, ['RowKey']);
    const actions: TransactionAction[] = keys.map((entity) => [
      'delete',
      { partitionKey, rowKey: entity.rowKey as string },
    ]);
    await submitInBatches(this.table, actions);
  }

  private toEntity(run: RunRecord) {
    return runCodec.toEntity(fitConflicts(run), encodeKey(run.portalId), encodeKey(run.id));
  }
}

function fitConflicts(run: RunRecord): RunRecord {
  let size = JSON.stringify(run.conflicts).length;
  if (size <= MAX_JSON_CHARS) return run;
  const conflicts = [...run.conflicts];
  while (conflicts.length > 0 && size > MAX_JSON_CHARS) {
    const dropped = conflicts.pop();
    size -= JSON.stringify(dropped).length + 1;
  }
  return { ...run, conflicts };
}
