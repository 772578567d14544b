import type { PortalRecord } from '../domain/records';
import { portalCodec } from './entities';
import { encodeKey, nameKey, odataString } from './keys';
import { concurrentChange, deleteIfOwned, getOrUndefined, isStatus, queryAll } from './tables';
import type { CountingTable } from './countingTable';
import { ConflictError, NotFoundError, type PortalRepository } from '../domain/ledger';

const PORTAL = 'portal';
/** A name row younger than this may belong to a create in progress (its portal row follows right after). */
const NAME_GRACE_MS = 60_000;
/** Reads and writes of one modify before it gives up on a record that keeps changing under it. */
export const MODIFY_ATTEMPTS = 5;
/** Portals whose last known version (and ETag) an instance keeps, so a run's updates need not read first. */
const KNOWN_VERSIONS = 1_024;

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
  /**
   * The version of each portal this instance last read or wrote, with its ETag: modify tries its change on it
   * without reading first; had anyone written the record since, the ETag no longer matches and it reads afresh.
   */
  private readonly known = new Map<string, { etag: string; record: PortalRecord }>();

  constructor(private readonly table: CountingTable) {}

  private remember(portalId: string, etag: string | undefined, record: PortalRecord): void {
    this.known.delete(portalId);
    if (etag === undefined) return;
    this.known.set(portalId, { etag, record });
    if (this.known.size > KNOWN_VERSIONS) this.known.delete(this.known.keys().next().value as string);
  }

  async create(portal: PortalRecord): Promise<PortalRecord> {
    await this.claimName(portal.name, portal.id);
    try {
      await this.table.createEntity(portalCodec.toEntity(portal, PORTAL, encodeKey(portal.id)));
    } catch (error) {
      await this.releaseName(portal.name, portal.id);
      if (isStatus(error, 409)) throw new ConflictError(`A portal access with id ${portal.id} already exists.`);
      throw error;
    }
    return portal;
  }

  async get(portalId: string): Promise<PortalRecord | undefined> {
    const entity = await getOrUndefined(this.table, PORTAL, encodeKey(portalId));
    if (!entity) return undefined;
    const record = portalCodec.fromEntity(entity);
    this.remember(portalId, entity.etag, record);
    return record;
  }

  async list(): Promise<PortalRecord[]> {
    const entities = await queryAll(this.table, `PartitionKey eq ${odataString(PORTAL)}`);
    return entities.map((entity) => portalCodec.fromEntity(entity));
  }

  /** Last writer wins: `portal` replaces whatever is stored (see modify for a change of what is stored). */
  async update(portal: PortalRecord): Promise<PortalRecord> {
    const written = await this.modify(portal.id, () => portal);
    if (!written) throw new NotFoundError(`Portal access ${portal.id} does not exist.`);
    return portal;
  }

  async modify(
    portalId: string,
    change: (current: PortalRecord) => PortalRecord | undefined,
  ): Promise<PortalRecord | undefined> {
    const rowKey = encodeKey(portalId);
    // A name this call claimed for a rename whose write then lost to another writer: released unless still wanted.
    let claimed: string | undefined;
    try {
      for (let attempt = 0; attempt < MODIFY_ATTEMPTS; attempt += 1) {
        // First the version this instance knows, if any; after a conflict (or without one) the stored one.
        const known = attempt === 0 ? this.known.get(portalId) : undefined;
        const entity = known ? undefined : await getOrUndefined(this.table, PORTAL, rowKey);
        if (!known && !entity) return undefined;
        const current = known?.record ?? portalCodec.fromEntity(entity!);
        const etag = known?.etag ?? entity!.etag;
        const next = change(current);
        // The other writer renamed the record to that very name: the row is the record's now, not ours to release.
        if (claimed !== undefined && nameKey(claimed) === nameKey(current.name)) claimed = undefined;
        if (claimed !== undefined && (!next || nameKey(claimed) !== nameKey(next.name))) {
          await this.releaseName(claimed, portalId);
          claimed = undefined;
        }
        if (!next) {
          if (known) continue; // nothing to write: the caller gets the stored record, not the one known here
          return current;
        }
        if (next.id !== portalId)
          throw new Error(`A change of portal access ${portalId} must not change its id (got ${next.id}).`);
        const renamed = nameKey(current.name) !== nameKey(next.name);
        if (renamed) {
          await this.claimName(next.name, portalId);
          claimed = next.name;
        }
        try {
          // The ETag that was read: a write of anyone else in between fails this one (412), which then starts over.
          const written = await this.table.updateEntity(portalCodec.toEntity(next, PORTAL, rowKey), 'Replace', {
            etag,
          });
          this.remember(portalId, written, next);
        } catch (error) {
          this.known.delete(portalId);
          if (isStatus(error, 412)) continue;
          if (isStatus(error, 404)) return undefined;
          throw error;
        }
        claimed = undefined;
        if (renamed) await this.releaseName(current.name, portalId);
        return next;
      }
      throw concurrentChange(`Portal access ${portalId}`);
    } finally {
      if (claimed !== undefined) await this.releaseName(claimed, portalId);
    }
  }

  /** Deletes the record and its name row; nothing to do when it is already gone. */
  async delete(portalId: string): Promise<void> {
    const current = await this.get(portalId);
    this.known.delete(portalId);
    if (!current) return;
    try {
      await this.table.deleteEntity(PORTAL, encodeKey(portalId));
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
        return;
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
      const holder = await getOrUndefined<NameEntity>(this.table, NAME, rowKey);
      if (!holder) continue;
      if (holder.portalId === portalId) return;
      if (!isStale(holder.timestamp) || (await this.get(holder.portalId))) {
        throw new ConflictError(
          `A portal access named "${name}" already exists (names are compared case-insensitively).`,
        );
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
    await deleteIfOwned<NameEntity>(this.table, NAME, nameKey(name), (row) => row.portalId === portalId);
  }
}
