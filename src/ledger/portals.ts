import type { TableClient } from '@azure/data-tables';
import type { PortalRecord } from '../domain/records';
import { portalCodec } from './entities';
import { encodeKey, nameKey, odataString } from './keys';
import { getOrUndefined, isStatus, queryAll, type LedgerStats } from './tables';
import { ConflictError, NotFoundError, type PortalRepository } from './types';

const PORTAL = 'portal';
/** A name row younger than this may belong to a create in progress (its portal row follows right after). */
const NAME_GRACE_MS = 60_000;

function isStale(timestamp: string | undefined): boolean {
  const written = timestamp ? Date.parse(timestamp) : NaN;
  return Number.isFinite(written) && Date.now() - written > NAME_GRACE_MS;
}
const NAME = 'name';

interface NameEntity {
  portalId: string;
}

/** Portal records, and a "name" row per portal that makes names unique case-insensitively. */
export class TablePortalRepository implements PortalRepository {
  constructor(private readonly table: TableClient, private readonly stats: LedgerStats) {}

  async create(portal: PortalRecord): Promise<PortalRecord> {
    await this.claimName(portal.name, portal.id);
    try {
      await this.table.createEntity(portalCodec.toEntity(portal, PORTAL, encodeKey(portal.id)));
      this.stats.entitiesWritten += 1;
    } catch (error) {
      await this.releaseName(portal.name, portal.id);
      if (isStatus(error, 409)) throw new ConflictError(`A portal access with id ${portal.id} already exists.`);
      throw error;
    }
    return portal;
  }

  async get(portalId: string): Promise<PortalRecord | undefined> {
    const entity = await getOrUndefined(this.table, PORTAL, encodeKey(portalId), this.stats);
    return entity && portalCodec.fromEntity(entity);
  }

  async list(): Promise<PortalRecord[]> {
    const entities = await queryAll(this.table, `PartitionKey eq ${odataString(PORTAL)}`, this.stats);
    return entities.map((entity) => portalCodec.fromEntity(entity));
  }

  async update(portal: PortalRecord): Promise<PortalRecord> {
    const current = await this.get(portal.id);
    if (!current) throw new NotFoundError(`Portal access ${portal.id} does not exist.`);
    const renamed = nameKey(current.name) !== nameKey(portal.name);
    if (renamed) await this.claimName(portal.name, portal.id);
    try {
      // '*': the record must exist (a concurrent delete wins), whatever its version.
      await this.table.updateEntity(portalCodec.toEntity(portal, PORTAL, encodeKey(portal.id)), 'Replace', { etag: '*' });
      this.stats.entitiesWritten += 1;
    } catch (error) {
      if (renamed) await this.releaseName(portal.name, portal.id);
      if (isStatus(error, 404)) throw new NotFoundError(`Portal access ${portal.id} does not exist.`);
      throw error;
    }
    if (renamed) await this.releaseName(current.name, portal.id);
    return portal;
  }

  /** Deletes the record and its name row; nothing to do when it is already gone. */
  async delete(portalId: string): Promise<void> {
    const current = await this.get(portalId);
    if (!current) return;
    try {
      await this.table.deleteEntity(PORTAL, encodeKey(portalId));
      this.stats.entitiesWritten += 1;
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    await this.releaseName(current.name, portalId);
  }

  /** Creates the name row; a row left behind by a portal that no longer exists is taken over. */
  private async claimName(name: string, portalId: string): Promise<void> {
    const rowKey = nameKey(name);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.table.createEntity<NameEntity>({ partitionKey: NAME, rowKey, portalId });
        this.stats.entitiesWritten += 1;
        return;
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
      const holder = await getOrUndefined<NameEntity>(this.table, NAME, rowKey, this.stats);
      if (!holder) continue;
      if (holder.portalId === portalId) return;
      if (!isStale(holder.timestamp) || await this.get(holder.portalId)) {
        throw new ConflictError(`A portal access named "${name}" already exists (names are compared case-insensitively).`);
      }
      // Left behind by a crash between the two writes of a create or delete: drop it and try again.
      try {
        await this.table.deleteEntity(NAME, rowKey, { etag: holder.etag });
      } catch (error) {
        if (!isStatus(error, 404, 412)) throw error;
      }
    }
    throw new ConflictError(`A portal access named "${name}" already exists (names are compared case-insensitively).`);
  }

  private async releaseName(name: string, portalId: string): Promise<void> {
    const rowKey = nameKey(name);
    const holder = await getOrUndefined<NameEntity>(this.table, NAME, rowKey, this.stats);
    if (!holder || holder.portalId !== portalId) return;
    try {
      await this.table.deleteEntity(NAME, rowKey, { etag: holder.etag });
      this.stats.entitiesWritten += 1;
    } catch (error) {
      if (!isStatus(error, 404, 412)) throw error;
    }
  }
}
