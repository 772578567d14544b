import {
  ConflictError,
  NotFoundError,
  type ContactGateway,
  type CursorPage,
  type LicenseGateway,
} from '../domain/ledger';
import type { Cursor } from '../domain/paging';
import { licenseIdOf, parseLicenseId, type ConsumerRecord, type LicenseRecord } from '../domain/records';
import type { CountingTable } from './countingTable';
import { consumerCodec, consumerEntity, licenseCodec } from './entities';
import { consumerRowKey, consumerRowKeyRange, encodeKey } from './keys';
import {
  concurrentChange,
  getOrUndefined,
  isStatus,
  partitionFilter,
  forEachPage,
  queryAll,
  queryPage,
  queryPages,
  rangeFilter,
} from './tables';

export interface LicenseTables {
  licenses: CountingTable;
  consumers: CountingTable;
}

/** How often a read-modify-write retries after losing an ETag race before it gives up (transient). */
const MAX_ETAG_RETRIES = 10;

/**
 * Licenses and their consumers as the API reads them, and the links a person makes by hand. A portal's licenses
 * and consumers live in partitions named after the portal.
 */
export class TableLicenseGateway implements LicenseGateway {
  constructor(
    private readonly tables: LicenseTables,
    private readonly contacts: Pick<ContactGateway, 'get'>,
    private readonly now: () => number,
  ) {}

  async list(portalId?: string): Promise<LicenseRecord[]> {
    const filter = portalId === undefined ? undefined : partitionFilter(encodeKey(portalId));
    const rows = await queryAll(this.tables.licenses, filter);
    return rows.map((row) => licenseCodec.fromEntity(row));
  }

  async get(licenseId: string): Promise<LicenseRecord | undefined> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return undefined;
    const row = await getOrUndefined(this.tables.licenses, encodeKey(parts.portalId), encodeKey(parts.skuId));
    return row && licenseCodec.fromEntity(row);
  }

  async listConsumers(licenseId: string): Promise<ConsumerRecord[]> {
    const all: ConsumerRecord[] = [];
    for await (const page of this.consumerPages(licenseId)) all.push(...page);
    return all;
  }

  async *consumerPages(licenseId: string): AsyncGenerator<ConsumerRecord[]> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return;
    const filter = rangeFilter(partitionFilter(encodeKey(parts.portalId)), consumerRowKeyRange(parts.skuId));
    for await (const rows of queryPages(this.tables.consumers, filter)) {
      yield rows.map((row) => consumerCodec.fromEntity(row)).filter((consumer) => consumer.skuId === parts.skuId);
    }
  }

  async consumerPage(licenseId: string, limit: number, cursor?: Cursor): Promise<CursorPage<ConsumerRecord>> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return { items: [] };
    const filter = rangeFilter(partitionFilter(encodeKey(parts.portalId)), consumerRowKeyRange(parts.skuId));
    const page = await queryPage(this.tables.consumers, filter, limit, cursor);
    const items = page.rows
      .map((row) => consumerCodec.fromEntity(row))
      .filter((consumer) => consumer.skuId === parts.skuId);
    return { items, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  async assignmentErrors(portalId: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    await forEachPage<{ skuId?: string; assignment?: string }>(
      this.tables.consumers,
      partitionFilter(encodeKey(portalId)),
      (rows) => {
        for (const row of rows) {
          if (!row.assignment || !row.skuId) continue;
          const assignment = JSON.parse(row.assignment) as { assignmentState?: string; assignmentError?: string };
          if (assignment.assignmentState === 'Error' || (assignment.assignmentError ?? 'None') !== 'None')
            counts.set(row.skuId, (counts.get(row.skuId) ?? 0) + 1);
        }
      },
      ['skuId', 'assignment'],
    );
    return counts;
  }

  async getConsumer(licenseId: string, contactId: string): Promise<ConsumerRecord | undefined> {
    const parts = parseLicenseId(licenseId);
    if (!parts) return undefined;
    const rowKey = consumerRowKey(parts.skuId, contactId);
    const row = await getOrUndefined(this.tables.consumers, encodeKey(parts.portalId), rowKey);
    return row && consumerCodec.fromEntity(row);
  }

  async addManualConsumer(licenseId: string, contactId: string, now: string): Promise<ConsumerRecord> {
    const license = await this.get(licenseId);
    if (!license) throw new NotFoundError(`License ${licenseId} does not exist.`);
    const contact = await this.contacts.get(contactId);
    if (!contact) throw new NotFoundError(`Contact ${contactId} does not exist.`);
    const consumer: ConsumerRecord = {
      licenseId: license.id,
      portalId: license.portalId,
      skuId: license.skuId,
      contactId,
      owner: { kind: 'manual' },
      createdAt: now,
      updatedAt: now,
      contactEmail: contact.email,
      contactName: contact.displayName,
    };
    try {
      // One row per (license, contact), whoever owns it: the key itself forbids a second link.
      await this.tables.consumers.createEntity(consumerEntity(consumer));
    } catch (error) {
      if (isStatus(error, 409))
        throw new ConflictError(`Contact ${contactId} is already linked to license ${licenseId}.`);
      throw error;
    }
    await this.adjustAssigned(license, +1, now);
    return consumer;
  }

  async removeManualConsumer(licenseId: string, contactId: string): Promise<void> {
    const parts = parseLicenseId(licenseId);
    if (!parts) throw new NotFoundError(`License ${licenseId} does not exist.`);
    const partitionKey = encodeKey(parts.portalId);
    const rowKey = consumerRowKey(parts.skuId, contactId);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt += 1) {
      const row = await getOrUndefined(this.tables.consumers, partitionKey, rowKey);
      if (!row) throw new NotFoundError(`Contact ${contactId} is not linked to license ${licenseId}.`);
      const consumer = consumerCodec.fromEntity(row);
      if (consumer.owner.kind !== 'manual') {
        throw new ConflictError(
          `The link of contact ${contactId} to license ${licenseId} belongs to the sync of its portal access; it goes when the user loses the license.`,
        );
      }
      try {
        await this.tables.consumers.deleteEntity(partitionKey, rowKey, { etag: row.etag });
      } catch (error) {
        if (isStatus(error, 404, 412)) continue;
        throw error;
      }
      const license = await this.get(licenseId);
      if (license) await this.adjustAssigned(license, -1, new Date(this.now()).toISOString());
      return;
    }
    throw concurrentChange(`The link of contact ${contactId} to license ${licenseId}`);
  }

  /** Adds `delta` to a license's `assigned` with a guarded read-modify-write, retrying when it loses a race. */
  private async adjustAssigned(license: LicenseRecord, delta: number, now: string): Promise<void> {
    const partitionKey = encodeKey(license.portalId);
    const rowKey = encodeKey(license.skuId);
    for (let attempt = 0; attempt < MAX_ETAG_RETRIES; attempt += 1) {
      const row = await getOrUndefined(this.tables.licenses, partitionKey, rowKey);
      if (!row) return;
      const current = licenseCodec.fromEntity(row);
      try {
        await this.tables.licenses.updateEntity(
          { partitionKey, rowKey, assigned: Math.max(0, current.assigned + delta), updatedAt: now },
          'Merge',
          { etag: row.etag },
        );
        return;
      } catch (error) {
        if (isStatus(error, 404)) return;
        if (!isStatus(error, 412)) throw error;
      }
    }
    throw concurrentChange(`License ${licenseIdOf(license.portalId, license.skuId)}`);
  }
}
