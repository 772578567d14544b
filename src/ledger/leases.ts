import { encodeKey } from './keys';
import { deleteIfOwned, getOrUndefined, isStatus } from './tables';
import type { CountingTable } from './countingTable';
import type { LeaseRepository } from '../domain/ledger';

const LEASE = 'lease';

interface LeaseEntity {
  holder: string;
  /** ISO time (a millisecond count would not fit the Int32 the service infers for a plain number). */
  expiresAt: string;
}

/**
 * One row per portal, guarded by its ETag: of two instances that both see the lease free, only the first
 * create (or the first update with the ETag both read) succeeds.
 */
export class TableLeaseRepository implements LeaseRepository {
  constructor(
    private readonly table: CountingTable,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(portalId: string, holder: string, ttlMs: number): Promise<boolean> {
    const rowKey = encodeKey(portalId);
    const entity = { partitionKey: LEASE, rowKey, holder, expiresAt: new Date(this.now() + ttlMs).toISOString() };
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
    if (!current) {
      try {
        await this.table.createEntity<LeaseEntity>(entity);
        return true;
      } catch (error) {
        if (isStatus(error, 409)) return false;
        throw error;
      }
    }
    // The same holder taking it again (a retried attempt of the same run) simply extends it.
    if (current.holder !== holder && Date.parse(current.expiresAt) > this.now()) return false;
    return this.replace(entity, current.etag);
  }

  async renew(portalId: string, holder: string, ttlMs: number): Promise<boolean> {
    const rowKey = encodeKey(portalId);
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, rowKey);
    if (!current || current.holder !== holder) return false;
    return this.replace(
      { partitionKey: LEASE, rowKey, holder, expiresAt: new Date(this.now() + ttlMs).toISOString() },
      current.etag,
    );
  }

  async release(portalId: string, holder: string): Promise<void> {
    // Gone, or taken over after it expired: either way it is no longer ours to release.
    await deleteIfOwned<LeaseEntity>(this.table, LEASE, encodeKey(portalId), (lease) => lease.holder === holder);
  }

  async holder(portalId: string): Promise<string | undefined> {
    const current = await getOrUndefined<LeaseEntity>(this.table, LEASE, encodeKey(portalId));
    return current && Date.parse(current.expiresAt) > this.now() ? current.holder : undefined;
  }

  private async replace(
    entity: LeaseEntity & { partitionKey: string; rowKey: string },
    etag: string,
  ): Promise<boolean> {
    try {
      await this.table.updateEntity(entity, 'Replace', { etag });
      return true;
    } catch (error) {
      if (isStatus(error, 404, 412)) return false;
      throw error;
    }
  }
}
