import type { RenewalGateway } from '../domain/ledger';
import { renewalSettingsSchema, termSchema, type RenewalSettings, type Term } from '../domain/insights';
import { AppError } from '../domain/errors';
import type { CountingTable } from './countingTable';
import { decodeKey, encodeKey } from './keys';
import { getOrUndefined, isStatus, partitionFilter, queryAll } from './tables';

/** Right-size: one row per subscription whose term the admin set (partition `term`), and the settings row. */
const TERM = 'term';
const SETTINGS = 'settings';

export class TableRenewalGateway implements RenewalGateway {
  constructor(private readonly table: CountingTable) {}

  async terms(): Promise<Map<string, Term>> {
    const rows = await queryAll<{ term?: unknown }>(this.table, partitionFilter(TERM));
    const terms = new Map<string, Term>();
    for (const row of rows) {
      const term = termSchema.safeParse(row.term);
      // A row this version cannot read is left out: the term is inferred again, as before it was set.
      if (term.success) terms.set(decodeKey(row.rowKey ?? ''), term.data);
    }
    return terms;
  }

  async putTerm(subscriptionId: string, term: Term): Promise<void> {
    await this.table.upsertEntity({ partitionKey: TERM, rowKey: encodeKey(subscriptionId), term }, 'Replace');
  }

  async deleteTerm(subscriptionId: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(TERM, encodeKey(subscriptionId));
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  async settings(): Promise<RenewalSettings | undefined> {
    const row = await getOrUndefined<Record<string, unknown>>(this.table, SETTINGS, SETTINGS);
    if (!row) return undefined;
    const parsed = renewalSettingsSchema.safeParse({ bufferPercent: row.bufferPercent, bufferMin: row.bufferMin });
    if (!parsed.success) throw new AppError('internal_error', { detail: 'the stored renewal settings are not valid' });
    return parsed.data;
  }

  async putSettings(settings: RenewalSettings): Promise<void> {
    await this.table.upsertEntity({ partitionKey: SETTINGS, rowKey: SETTINGS, ...settings }, 'Replace');
  }
}
