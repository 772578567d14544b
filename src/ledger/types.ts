import type {
  ConsumerRecord, ContactRecord, LicenseRecord, PortalRecord, RunRecord,
} from '../domain/records';
import type { ChangePlan } from '../reconcile/plan';

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

export interface PortalLedgerState {
  licenses: LicenseRecord[];
  /** Every consumer of this portal's licenses, sync-owned and hand-made. */
  consumers: ConsumerRecord[];
  /** ETags of the entities above as read (key: licenseId, or `${licenseId}|${contactId}`), for guarded updates. */
  etags: Map<string, string>;
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
  /** Writes the whole record; a rename moves the unique-name index entry (ConflictError on a taken name). */
  update(portal: PortalRecord): Promise<PortalRecord>;
  delete(portalId: string): Promise<void>;
}

export interface RunRepository {
  create(run: RunRecord): Promise<void>;
  /** Creates many queued runs at once (the timer's fan-out). */
  createMany(runs: RunRecord[]): Promise<void>;
  get(portalId: string, runId: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  list(portalId: string, limit?: number): Promise<RunRecord[]>;
  update(run: RunRecord): Promise<void>;
  deleteAll(portalId: string): Promise<void>;
}

export interface LeaseRepository {
  /** Takes the portal's lease for `ttlMs` unless another holder has an unexpired one. */
  acquire(portalId: string, holder: string, ttlMs: number): Promise<boolean>;
  renew(portalId: string, holder: string, ttlMs: number): Promise<boolean>;
  release(portalId: string, holder: string): Promise<void>;
  /** The current unexpired holder, if any. */
  holder(portalId: string): Promise<string | undefined>;
}

export interface LedgerRepository {
  loadPortalState(portalId: string): Promise<PortalLedgerState>;
  /**
   * Finds which contact holds each address (lower-cased). Point reads of the address index, or one scan of it
   * when there are very many addresses (a first sync of a large tenant).
   */
  findContactIdsByAddress(addresses: Iterable<string>): Promise<Map<string, string>>;
  getContact(contactId: string): Promise<ContactRecord | undefined>;
  /** Contact holding this address (primary or alias), case-insensitive, without a table scan. */
  findContactByAddress(address: string): Promise<ContactRecord | undefined>;
  /** Creates a contact by hand; ConflictError when any of its addresses belongs to another contact. */
  createContact(contact: ContactRecord): Promise<ContactRecord>;
  listLicenses(portalId?: string): Promise<LicenseRecord[]>;
  getLicense(licenseId: string): Promise<LicenseRecord | undefined>;
  listConsumers(licenseId: string): Promise<ConsumerRecord[]>;
  /** Links by hand; ConflictError when the contact is already linked to the license. Updates `assigned`. */
  addManualConsumer(licenseId: string, contactId: string, now: string): Promise<ConsumerRecord>;
  /** Unlinks a hand-made consumer; NotFoundError when there is none; ConflictError when it is sync-owned. */
  removeManualConsumer(licenseId: string, contactId: string): Promise<void>;
  /** Applies a reconciliation plan of one portal. */
  applyPlan(plan: ChangePlan, state: PortalLedgerState): Promise<ApplyResult>;
  /** Deletes the portal's licenses and consumers (portal delete with ?purge=true). Contacts stay. */
  purgePortal(portalId: string): Promise<void>;
}

export interface Ledger {
  portals: PortalRepository;
  runs: RunRepository;
  leases: LeaseRepository;
  ledger: LedgerRepository;
}
