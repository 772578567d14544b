import { z } from 'zod';
import { assignmentDigest, fingerprintDigest } from '../domain/digests';
import { AppError } from '../domain/errors';
import {
  consumerKey,
  type AddressLookup,
  type ApplyCarry,
  type ApplyResult,
  type ConsumerState,
  type Fence,
  type PortalLedgerState,
  type SyncStateGateway,
  type UserLinkState,
} from '../domain/ledger';
import type { ChangePlan } from '../domain/plan';
import { mapConcurrent } from '../util/async';
import { LOOKUP_CONCURRENCY } from './addresses';
import type { TableContactGateway } from './contacts';
import { consumerCodec, licenseCodec, userLinkBucketCodec } from './entities';
import { consumerRowKey, consumerRowKeyRange, encodeKey, rowKeyRanges, syncContactId, userLinkBucket } from './keys';
import { applyPlan, type PlanTables } from './planWriter';
import {
  forEachPage,
  getOrUndefined,
  PAGE_SIZE,
  partitionFilter,
  queryAll,
  rangeFilter,
  READ_CONCURRENCY,
} from './tables';

/**
 * The sync's user links of a portal live in 4,096 rows (userLinkBucket: a hash of the objectId picks the row), each a
 * JSON map objectId -> [contactId, comma-separated skuIds]: a full read loads a few thousand rows instead of one
 * per user, and a delta run point-reads the buckets of the users it names.
 */
const userLinkBucketSchema = z.record(z.string(), z.tuple([z.string().min(1), z.string()]));

function addUserLinksFromEntity(
  row: Record<string, unknown> & { etag?: string },
  into: Map<string, UserLinkState>,
  etags: Map<string, string>,
): void {
  if (row.etag) etags.set(String(row.rowKey), row.etag);
  const parsed = userLinkBucketSchema.safeParse(userLinkBucketCodec.fromEntity(row).links);
  if (!parsed.success) {
    throw new AppError('internal_error', {
      detail: `a stored user link bucket (${String(row.partitionKey)}/${String(row.rowKey)}) is not valid`,
    });
  }
  for (const [objectId, [contactId, skuIds]] of Object.entries(parsed.data)) {
    into.set(objectId, { contactId, skuIds: skuIds ? skuIds.split(',') : [] });
  }
}

/** Consumers a portal's state reads in one query rather than in parallel ranges (two pages). */
const SMALL_PARTITION = 2 * PAGE_SIZE;

/** One copy of each of a portal's few skuIds for its many consumers. */
type Interned = Map<string, string>;

function intern(strings: Interned, value: string): string {
  const known = strings.get(value);
  if (known !== undefined) return known;
  strings.set(value, value);
  return value;
}

/** A stored consumer as the sync keeps it in memory (the whole record is checked against its schema first). */
function consumerStateFromEntity(
  row: Record<string, unknown> & { etag?: string },
  portalId: string,
  skuIds: Interned = new Map(),
): [string, ConsumerState] {
  const consumer = consumerCodec.fromEntity(row);
  const sync = consumer.owner.kind === 'sync' && consumer.owner.portalId === portalId;
  const state: ConsumerState = {
    skuId: intern(skuIds, consumer.skuId),
    contactId: consumer.contactId,
    sync,
    etag: row.etag,
  };
  if (sync && consumer.assignment) {
    state.objectId = consumer.assignment.objectId;
    state.digest = assignmentDigest(consumer.assignment);
    if (consumer.userFingerprint !== undefined) state.fingerprintDigest = fingerprintDigest(consumer.userFingerprint);
  }
  return [consumerKey(consumer.skuId, consumer.contactId), state];
}

/**
 * A portal's ledger as the sync reads it (compact: a 150,000-consumer portal stays small) and writes it back. Its
 * licenses and consumers live in partitions named after the portal: the whole state is a few partition queries,
 * and its writes batch 100 to a transaction.
 */
export class TableSyncStateGateway implements SyncStateGateway {
  constructor(
    private readonly tables: PlanTables,
    private readonly contacts: TableContactGateway,
  ) {}

  async loadPortal(portalId: string, options: { expectedConsumers?: number } = {}): Promise<PortalLedgerState> {
    const filter = partitionFilter(encodeKey(portalId));
    const [{ licenses, licenseEtags }, { userLinks, userLinkEtags }] = await Promise.all([
      this.loadLicenses(portalId),
      this.loadUserLinks(portalId),
    ]);
    // A large consumer partition is read in RowKey ranges split at each license's prefix, several at once: the
    // ranges together cover every key exactly once, and a large portal's state no longer waits on one long
    // chain of 1,000-entity pages. A small one (a page or two) is one query: ranges would only add calls.
    // Each page is turned into compact state as it comes.
    const small = options.expectedConsumers !== undefined && options.expectedConsumers <= SMALL_PARTITION;
    const ranges = small
      ? [filter]
      : rowKeyRanges(licenses.map((license) => consumerRowKeyRange(license.skuId).from)).map((range) =>
          rangeFilter(filter, range),
        );
    const consumers = new Map<string, ConsumerState>();
    const skuIds: Interned = new Map();
    await mapConcurrent(ranges, READ_CONCURRENCY, (range) =>
      forEachPage(this.tables.consumers, range, (rows) => {
        for (const row of rows) {
          const [key, state] = consumerStateFromEntity(row, portalId, skuIds);
          consumers.set(key, state);
        }
      }),
    );
    return { licenses, licenseEtags, consumers, userLinks, userLinkEtags, scope: 'full' };
  }

  async loadUsers(portalId: string, objectIds: Iterable<string>): Promise<PortalLedgerState> {
    const partitionKey = encodeKey(portalId);
    const ids = [...new Set(objectIds)];
    const buckets = [...new Set(ids.map(userLinkBucket))];
    const [{ licenses, licenseEtags }, rows] = await Promise.all([
      this.loadLicenses(portalId),
      mapConcurrent(buckets, LOOKUP_CONCURRENCY, (bucket) =>
        getOrUndefined(this.tables.userLinks, partitionKey, bucket),
      ),
    ]);
    // Every link of the buckets read (the state must hold whole buckets, which are rewritten whole).
    const userLinks = new Map<string, UserLinkState>();
    const userLinkEtags = new Map<string, string>();
    for (const row of rows) if (row) addUserLinksFromEntity(row, userLinks, userLinkEtags);
    const keys = ids.flatMap((objectId) => {
      const link = userLinks.get(objectId);
      return link ? link.skuIds.map((skuId) => consumerRowKey(skuId, link.contactId)) : [];
    });
    const consumerRows = await mapConcurrent([...new Set(keys)], LOOKUP_CONCURRENCY, (rowKey) =>
      getOrUndefined(this.tables.consumers, partitionKey, rowKey),
    );
    const consumers = new Map<string, ConsumerState>();
    for (const row of consumerRows) {
      if (!row) continue;
      const [key, state] = consumerStateFromEntity(row, portalId);
      consumers.set(key, state);
    }
    return { licenses, licenseEtags, consumers, userLinks, userLinkEtags, scope: 'partial' };
  }

  apply(plan: ChangePlan, state: PortalLedgerState, carry?: ApplyCarry, fence?: Fence): Promise<ApplyResult> {
    return applyPlan(this.tables, this.contacts, plan, state, carry, fence);
  }

  addressLookup(options: { mayScan: boolean }): AddressLookup {
    return this.contacts.addressLookup(options);
  }

  contactIds(portalId: string): (objectId: string) => string {
    return (objectId) => syncContactId(portalId, objectId);
  }

  private async loadLicenses(portalId: string): Promise<Pick<PortalLedgerState, 'licenses' | 'licenseEtags'>> {
    const rows = await queryAll(this.tables.licenses, partitionFilter(encodeKey(portalId)));
    const licenseEtags = new Map<string, string>();
    const licenses = rows.map((row) => {
      const license = licenseCodec.fromEntity(row);
      licenseEtags.set(license.skuId, row.etag);
      return license;
    });
    return { licenses, licenseEtags };
  }

  private async loadUserLinks(portalId: string): Promise<Pick<PortalLedgerState, 'userLinks' | 'userLinkEtags'>> {
    const userLinks = new Map<string, UserLinkState>();
    const userLinkEtags = new Map<string, string>();
    await forEachPage(this.tables.userLinks, partitionFilter(encodeKey(portalId)), (rows) => {
      for (const row of rows) addUserLinksFromEntity(row, userLinks, userLinkEtags);
    });
    return { userLinks, userLinkEtags };
  }
}
