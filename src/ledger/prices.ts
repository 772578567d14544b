import type { PriceGateway } from '../domain/ledger';
import { storedPriceSchema, type StoredPrice } from '../domain/insights';
import { AppError } from '../domain/errors';
import type { CountingTable } from './countingTable';
import { decodeKey, encodeKey, odataString } from './keys';
import { getOrUndefined, isStatus, queryAll } from './tables';

/** The admin's prices: one row per plan (partition `sku`) and per license that overrides its plan's (`license`). */
const PLAN = 'sku';
const LICENSE = 'license';

function priceOf(row: Record<string, unknown>): StoredPrice {
  const parsed = storedPriceSchema.safeParse({ amount: row.amount, currency: row.currency, period: row.period });
  if (!parsed.success)
    throw new AppError('internal_error', { detail: `a stored price (${String(row.rowKey)}) is not valid` });
  return parsed.data;
}

export class TablePriceGateway implements PriceGateway {
  constructor(private readonly table: CountingTable) {}

  planPrices(): Promise<Map<string, StoredPrice>> {
    return this.all(PLAN);
  }

  licensePrices(): Promise<Map<string, StoredPrice>> {
    return this.all(LICENSE);
  }

  async licensePrice(licenseId: string): Promise<StoredPrice | undefined> {
    const row = await getOrUndefined<Record<string, unknown>>(this.table, LICENSE, encodeKey(licenseId));
    return row && priceOf(row);
  }

  async planPrice(skuId: string): Promise<StoredPrice | undefined> {
    const row = await getOrUndefined<Record<string, unknown>>(this.table, PLAN, encodeKey(skuId));
    return row && priceOf(row);
  }

  async putPlanPrice(skuId: string, price: StoredPrice): Promise<void> {
    await this.table.upsertEntity({ partitionKey: PLAN, rowKey: encodeKey(skuId), ...price }, 'Replace');
  }

  async putLicensePrice(licenseId: string, price: StoredPrice): Promise<void> {
    await this.table.upsertEntity({ partitionKey: LICENSE, rowKey: encodeKey(licenseId), ...price }, 'Replace');
  }

  deletePlanPrice(skuId: string): Promise<boolean> {
    return this.remove(PLAN, encodeKey(skuId));
  }

  deleteLicensePrice(licenseId: string): Promise<boolean> {
    return this.remove(LICENSE, encodeKey(licenseId));
  }

  private async all(partitionKey: string): Promise<Map<string, StoredPrice>> {
    const rows = await queryAll<Record<string, unknown>>(this.table, `PartitionKey eq ${odataString(partitionKey)}`);
    return new Map(rows.map((row) => [decodeKey(row.rowKey as string), priceOf(row)]));
  }

  private async remove(partitionKey: string, rowKey: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(partitionKey, rowKey);
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }
}
