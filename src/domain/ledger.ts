import type { ConsumerRecord, ContactRecord, LicenseRecord, PortalRecord, RunRecord } from './records';
import type { ChangePlan } from './plan';
import type { Cursor } from './paging';
import type { AlertGateway, ChannelGateway, DeliveryGateway } from './alerts';
import type { HolderFacts, LicenseSnapshot, PortalSnapshot, RenewalSettings, StoredPrice, Term } from './insights';

/** A page of a storage query and where the next one starts (absent on the last page). */
export interface CursorPage<T> {
  items: T[];
  cursor?: Cursor;
}

/**
 * The ledger in Azure Table Storage. Layout (table names get the settings' tablePrefix):
 *
 * | table            | PartitionKey            | RowKey                    | what                                      |
 * |------------------|-------------------------|---------------------------|-------------------------------------------|
 * | portals          | "portal"                | portalId                  | portal records                            |
 * | portals          | "name"                  | lower-cased name, encoded | unique-name index -> portalId             |
 * | licenses         | portalId                | skuId                     | one per portal x plan                     |
 * | consumers        | portalId                | `${skuId}_${contactId}`   | links, sync-owned and hand-made           |
 * | contacts         | first 2 chars of the id | contactId                 | contacts (shared by all portals)          |
 * | contactaddresses | hash bucket of address  | encoded lower-case address| address index -> contactId (no scans)     |
 * | runs             | portalId                | runId (sorts newest first)| run records                               |
 * | leases           | "lease"                 | portalId                  | one running sync per portal (ETag-guarded)|
 *
 * One portal's ledger state (its licenses and consumers) is two partition queries; writes go in transactions
 * of up to 100 entities per partition; only changed entities are written; updates use the ETag that was read.
 */

/** One consumer row of a portal as the sync needs it: compact, so a 150,000-consumer portal stays small. */
export interface ConsumerState {
  skuId: string;
  contactId: string;
  /** Owned by this portal's sync (else made by hand, which the sync never touches). */
  sync: boolean;
  /** Sync-owned: the Entra object id of the user it stands for. */
  objectId?: string;
  /** Sync-owned: assignmentDigest of the stored assignment. */
  digest?: string;
  /** Sync-owned: fingerprintDigest of the stored userFingerprint. */
  fingerprintDigest?: string;
  etag?: string;
}

/** A stored user link (see UserLink), with its ETag. */
export interface UserLinkState {
  contactId: string;
  skuIds: string[];
  etag?: string;
}

export interface PortalLedgerState {
  licenses: LicenseRecord[];
  /** ETags of the licenses as read, by skuId. */
  licenseEtags: Map<string, string>;
  /** By consumerKey(skuId, contactId). */
  consumers: Map<string, ConsumerState>;
  /** The sync's user links, by objectId. */
  userLinks: Map<string, UserLinkState>;
  /** ETags of the user link bucket rows read (by bucket): a bucket is rewritten only if nobody wrote it since. */
  userLinkEtags: Map<string, string>;
  /**
   * `full`: every consumer and user link of the portal. `partial`: only those of the users a delta run names
   * (the licenses are always all there).
   */
  scope: 'full' | 'partial';
}

/** Key of a consumer in PortalLedgerState.consumers. */
export function consumerKey(skuId: string, contactId: string): string {
  return `${skuId}|${contactId}`;
}

export function splitConsumerKey(key: string): { skuId: string; contactId: string } {
  const bar = key.indexOf('|');
  return { skuId: key.slice(0, bar), contactId: key.slice(bar + 1) };
}

/** Stops a writer that no longer holds what it writes under (a run's lease): each throws when it is lost. */
export interface Fence {
  /** Asks storage: called when an apply starts. */
  confirm(): Promise<void>;
  /** No storage call (a failed renewal is known already): called before each later write step of an apply. */
  assert(): void;
}

/** What the ledger carries from one part of a plan to the next within one run (a full run applies by page). */
export interface ApplyCarry {
  /** Planned contact id -> the contact that replaced it (another writer had claimed one of its addresses). */
  mergedInto: Map<string, string>;
}

export interface ApplyResult {
  /** Contacts the plan wanted to create but another writer created first: the plan's links went to theirs. */
  contactsMerged: number;
  entitiesWritten: number;
  transactions: number;
}

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export interface PortalRepository {
  /** Throws ConflictError when another portal has the same name (case-insensitive). */
  create(portal: PortalRecord): Promise<PortalRecord>;
  get(portalId: string): Promise<PortalRecord | undefined>;
  list(): Promise<PortalRecord[]>;
  /**
   * Writes the whole record over whatever is stored (last writer wins: a change made since the caller read is
   * lost; prefer modify); a rename moves the unique-name index entry (ConflictError on a taken name).
   */
  update(portal: PortalRecord): Promise<PortalRecord>;
  /**
   * Read-modify-write without lost updates: reads the record with its ETag, applies `change` and writes the
   * result only if nobody wrote the record meanwhile; otherwise reads it again and applies `change` to that (so
   * `change` may run more than once and must only derive the new record from the one it is given). Gives up with
   * a transient storage_error AppError when the record keeps changing. `change` answers undefined to write
   * nothing. A rename moves the unique-name index entry (ConflictError on a taken name).
   * Answers the record as stored afterwards, or undefined when the portal does not exist (or was deleted meanwhile).
   */
  modify(
    portalId: string,
    change: (current: PortalRecord) => PortalRecord | undefined,
  ): Promise<PortalRecord | undefined>;
  delete(portalId: string): Promise<void>;
}

export interface RunRepository {
  create(run: RunRecord): Promise<void>;
  /** Creates the run, or replaces it when it exists already (another delivery of its message created it). */
  put(run: RunRecord): Promise<void>;
  /** Creates many queued runs at once (the timer's fan-out). */
  createMany(runs: RunRecord[]): Promise<void>;
  get(portalId: string, runId: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  list(portalId: string, limit?: number): Promise<RunRecord[]>;
  /** One page of the runs, newest first, from the cursor of the page before. */
  page(portalId: string, limit: number, cursor?: Cursor): Promise<CursorPage<RunRecord>>;
  update(run: RunRecord): Promise<void>;
  deleteAll(portalId: string): Promise<void>;
}

/**
 * One lease per portal keeps its runs (and its purge) apart. A holder names one attempt (never just a run id: a
 * second delivery of the same message must not count as the same holder).
 */
export interface LeaseRepository {
  /** Takes the portal's lease for `ttlMs` unless another holder has an unexpired one. */
  acquire(portalId: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease; false when it is no longer this holder's, or was revoked. */
  renew(portalId: string, holder: string, ttlMs: number): Promise<boolean>;
  release(portalId: string, holder: string): Promise<void>;
  /** The current unexpired holder, if any. */
  holder(portalId: string): Promise<string | undefined>;
  /** Whether `holder` still holds an unexpired, unrevoked lease (checked before each write step of a run). */
  holds(portalId: string, holder: string): Promise<boolean>;
  /**
   * Asks the current holder to stop (a purge wants the portal): its next check or renewal fails, and it releases
   * the lease. Answers the holder, or undefined when nobody holds an unexpired lease.
   */
  revoke(portalId: string): Promise<string | undefined>;
}

/** Which contact holds each of these (lower-cased) addresses; addresses nobody holds are absent. */
export type AddressLookup = (addresses: ReadonlySet<string>) => Promise<ReadonlyMap<string, string>>;

/** What the sync reads of a portal's ledger and writes back. */
export interface SyncStateGateway {
  /**
   * The portal's whole state: licenses, every consumer (compact) and every user link. `expectedConsumers` (the
   * licenses its plans say are in use) lets a small portal's state come in one query instead of several ranges.
   */
  loadPortal(portalId: string, options?: { expectedConsumers?: number }): Promise<PortalLedgerState>;
  /** The licenses, and the user links and consumers of just these users (a delta run). */
  loadUsers(portalId: string, objectIds: Iterable<string>): Promise<PortalLedgerState>;
  /**
   * Applies a reconciliation plan of one portal, or one part of it: a run that applies in parts passes the
   * same `carry` to each part.
   */
  apply(plan: ChangePlan, state: PortalLedgerState, carry?: ApplyCarry, fence?: Fence): Promise<ApplyResult>;
  /**
   * The address lookup of one run: point reads of the address index, or (`mayScan`, very many addresses at once:
   * a first sync of a large tenant) one read of the whole index that serves the rest of the run, when the index
   * is small enough to hold; else scans of just the index partitions a batch needs, keeping only its matches.
   */
  addressLookup(options: { mayScan: boolean }): AddressLookup;
  /**
   * The id of the contact a portal's sync creates for a user: derived from the portal and the user's Entra object
   * id, so a run retried after a crash between writing the contact and claiming its addresses completes the same
   * contact instead of leaving one that no lookup finds. Ids of one portal share 16 storage partitions, so a
   * run's new contacts batch well.
   */
  contactIds(portalId: string): (objectId: string) => string;
}

/** Contacts and their address index. */
export interface ContactGateway {
  get(contactId: string): Promise<ContactRecord | undefined>;
  /** Contact holding this address (primary or alias), case-insensitive, without a table scan. */
  findByAddress(address: string): Promise<ContactRecord | undefined>;
  /** Which contact holds each address (lower-cased): point reads of the index, or one scan when very many. */
  findIdsByAddress(addresses: Iterable<string>): Promise<Map<string, string>>;
  /** The whole address index (address -> contactId) when it holds at most `maxEntries`, else undefined. */
  loadAddressIndex(maxEntries?: number): Promise<Map<string, string> | undefined>;
  /** Creates a contact by hand; ConflictError when any of its addresses belongs to another contact. */
  create(contact: ContactRecord): Promise<ContactRecord>;
}

/** Licenses and their consumers, with the links a person makes by hand. */
export interface LicenseGateway {
  list(portalId?: string): Promise<LicenseRecord[]>;
  get(licenseId: string): Promise<LicenseRecord | undefined>;
  /** Every consumer of the license (the sync's tests and tools; the API reads them a page at a time). */
  listConsumers(licenseId: string): Promise<ConsumerRecord[]>;
  /** One page of a license's consumers (one storage query), from the cursor of the page before. */
  consumerPage(licenseId: string, limit: number, cursor?: Cursor): Promise<CursorPage<ConsumerRecord>>;
  /** The same, a page of storage at a time (an export streams them on). */
  consumerPages(licenseId: string): AsyncIterable<ConsumerRecord[]>;
  getConsumer(licenseId: string, contactId: string): Promise<ConsumerRecord | undefined>;
  /** Sync-owned consumers of a portal whose assignment is in error (e.g. CountViolation), counted by skuId. */
  assignmentErrors(portalId: string): Promise<Map<string, number>>;
  /** Links by hand; ConflictError when the contact is already linked to the license. Updates `assigned`. */
  addManualConsumer(licenseId: string, contactId: string, now: string): Promise<ConsumerRecord>;
  /** Unlinks a hand-made consumer; NotFoundError when there is none; ConflictError when it is sync-owned. */
  removeManualConsumer(licenseId: string, contactId: string): Promise<void>;
}

export interface PurgeGateway {
  /** Deletes the portal's licenses, consumers and user links (portal delete with ?purge=true). Contacts stay. */
  purgePortal(portalId: string): Promise<void>;
}

/** Daily snapshots of licenses and portals (PRODUCT.md, "History and the billing figure"). */
export interface HistoryGateway {
  /** Writes one day's snapshots of a portal's licenses and of the portal (replacing that day's). */
  putDay(portalId: string, licenses: (LicenseSnapshot & { skuId: string })[], portal: PortalSnapshot): Promise<void>;
  /** Deletes a portal's snapshots older than `oldestDay`; answers how many. */
  deleteBefore(portalId: string, oldestDay: string): Promise<number>;
  /** A license's snapshots from `from` to `to` (both inclusive, YYYY-MM-DD), oldest first. */
  licenseHistory(portalId: string, skuId: string, from: string, to: string): Promise<LicenseSnapshot[]>;
  portalHistory(portalId: string, from: string, to: string): Promise<PortalSnapshot[]>;
}

/** The admin's prices: per plan (skuId, every portal) and per license (overrides its plan's). */
export interface PriceGateway {
  planPrices(): Promise<Map<string, StoredPrice>>;
  licensePrices(): Promise<Map<string, StoredPrice>>;
  planPrice(skuId: string): Promise<StoredPrice | undefined>;
  licensePrice(licenseId: string): Promise<StoredPrice | undefined>;
  putPlanPrice(skuId: string, price: StoredPrice): Promise<void>;
  putLicensePrice(licenseId: string, price: StoredPrice): Promise<void>;
  /** false when there was none. */
  deletePlanPrice(skuId: string): Promise<boolean>;
  deleteLicensePrice(licenseId: string): Promise<boolean>;
}

/** New sign-in facts of one sync-owned consumer. */
export interface HolderActivity {
  skuId: string;
  contactId: string;
  lastSignInAt?: string;
  inactive: boolean;
}

/** A portal's sync-owned consumers as the insights see them. */
export interface HolderGateway {
  /** Every sync-owned consumer of the portal, a page at a time (a few fields each). */
  forEachHolder(portalId: string, visit: (holder: HolderFacts) => void): Promise<void>;
  /** Writes sign-in facts onto consumers (merges: nothing else of them changes); answers how many. */
  writeActivity(portalId: string, updates: HolderActivity[]): Promise<number>;
}

/** Right-size before renewal: the terms the admin set per subscription, and the buffer settings. */
export interface RenewalGateway {
  /** The terms the admin set, by subscription id (lower case). */
  terms(): Promise<Map<string, Term>>;
  putTerm(subscriptionId: string, term: Term): Promise<void>;
  /** false when none was set. */
  deleteTerm(subscriptionId: string): Promise<boolean>;
  /** undefined before the first PUT (the defaults apply). */
  settings(): Promise<RenewalSettings | undefined>;
  putSettings(settings: RenewalSettings): Promise<void>;
}

export interface Ledger {
  portals: PortalRepository;
  runs: RunRepository;
  leases: LeaseRepository;
  syncState: SyncStateGateway;
  contacts: ContactGateway;
  licenses: LicenseGateway;
  purge: PurgeGateway;
  /** Alerts and the rules document; notification channels and their deliveries (layout in ./alerts.ts). */
  alerts: AlertGateway;
  channels: ChannelGateway;
  deliveries: DeliveryGateway;
  history: HistoryGateway;
  prices: PriceGateway;
  holders: HolderGateway;
  renewals: RenewalGateway;
}
