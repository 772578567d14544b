import { createHash } from 'node:crypto';
import type { PlanNames } from '../app/services';
import {
  emptyCounts,
  licenseIdOf,
  type Assignment,
  type Conflict,
  type ContactRecord,
  type LicenseRecord,
  type RunCounts,
} from '../domain/records';
import type { TenantPlan, TenantUser, TenantUserPlan } from '../graph/types';
import { consumerKey, splitConsumerKey, type PortalLedgerState } from '../ledger/types';
import { appendPlan, emptyPlan, type ChangePlan, type UserLink } from './plan';

/**
 * The reconciliation rules of PRODUCT.md as one pure function: (tenant snapshot, this portal's ledger state) ->
 * plan of changes. No I/O: the caller reads, the ledger store applies, and a dry run just returns the plan.
 */

export interface TenantSnapshot {
  plans: TenantPlan[];
  /**
   * `full`: every user of the tenant (a complete read; sync-owned consumers not seen are removed).
   * `delta`: only users changed since the last read, plus the ids of users removed from the tenant; consumers of
   * users not mentioned stay as they are.
   */
  mode: 'full' | 'delta';
  users: TenantUser[];
  removedObjectIds?: string[];
}

export interface ReconcileInput {
  portal: { id: string; name: string };
  snapshot: TenantSnapshot;
  state: PortalLedgerState;
  /** Which contact holds each address, for the addresses of users that must be matched by address. */
  contactIdsByAddress: ReadonlyMap<string, string>;
  planNames: PlanNames;
  now: string;
  newContactId: () => string;
}

/** What a reconciliation needs besides the users, which it takes a page at a time. */
export interface ReconciliationSetup {
  portal: { id: string; name: string };
  plans: TenantPlan[];
  mode: 'full' | 'delta';
  /** Delta: users removed from the tenant (their sync-owned consumers go). */
  removedObjectIds?: Iterable<string>;
  state: PortalLedgerState;
  planNames: PlanNames;
  now: string;
  newContactId: () => string;
}

export const GONE_FROM_PORTAL = "This plan is no longer among the tenant's subscribed plans.";

/** The user's identity as the consumer remembers it: a change means a rename or new addresses. */
export function userFingerprint(user: TenantUser): string {
  return `${user.addresses.join(',')}|${user.displayName}`;
}

/** A short hash of a text: what the sync keeps in memory of each consumer instead of the values themselves. */
function digestOf(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

/** A stored assignment as one short comparable value (the ledger keeps only this of each consumer in memory). */
export function assignmentDigest(a: Assignment): string {
  return digestOf(
    [
      a.objectId,
      a.userPrincipalName,
      a.assignedDirectly ? 'direct' : '',
      a.assignedViaGroups.join(','),
      a.assignmentState,
      a.assignmentError,
      a.accountEnabled ? 'enabled' : 'disabled',
      a.userType,
    ].join('|'),
  );
}

/** A user fingerprint (see userFingerprint) as one short comparable value. */
export function fingerprintDigest(fingerprint: string): string {
  return digestOf(fingerprint);
}

interface SyncLink {
  contactId: string;
  /** fingerprintDigest of the user as last seen. */
  fingerprint: string | undefined;
}

function assignmentOf(user: TenantUser, plan: TenantUserPlan): Assignment {
  return {
    objectId: user.objectId,
    userPrincipalName: user.userPrincipalName,
    assignedDirectly: plan.assignedDirectly,
    assignedViaGroups: [...plan.assignedViaGroups].sort(),
    assignmentState: plan.state,
    assignmentError: plan.error,
    accountEnabled: user.accountEnabled,
    userType: user.userType,
  };
}

const LICENSE_VALUE_FIELDS = [
  'skuPartNumber',
  'displayName',
  'name',
  'available',
  'warning',
  'suspended',
  'lockedOut',
  'consumedUnits',
  'assigned',
  'capabilityStatus',
  'appliesTo',
  'overAssigned',
  'status',
  'statusMessage',
] as const satisfies readonly (keyof LicenseRecord)[];

function sameLicenseValues(a: LicenseRecord, b: LicenseRecord): boolean {
  return LICENSE_VALUE_FIELDS.every((field) => a[field] === b[field]);
}

type LicenseValues = Omit<LicenseRecord, 'id' | 'portalId' | 'skuId' | 'assigned' | 'createdAt' | 'updatedAt'>;

function licenseValuesFromPlan(plan: TenantPlan, portalName: string, names: PlanNames): LicenseValues {
  const displayName = names.displayName(plan.skuId, plan.skuPartNumber);
  return {
    skuPartNumber: plan.skuPartNumber,
    displayName,
    name: `${portalName} - ${displayName}`,
    available: plan.prepaidUnits.enabled,
    warning: plan.prepaidUnits.warning,
    suspended: plan.prepaidUnits.suspended,
    lockedOut: plan.prepaidUnits.lockedOut,
    consumedUnits: plan.consumedUnits,
    capabilityStatus: plan.capabilityStatus,
    appliesTo: plan.appliesTo,
    overAssigned: plan.consumedUnits > plan.prepaidUnits.enabled,
    status: 'current',
    statusMessage: undefined,
  };
}

function licenseValuesGone(existing: LicenseRecord, portalName: string): LicenseValues {
  return {
    skuPartNumber: existing.skuPartNumber,
    displayName: existing.displayName,
    name: `${portalName} - ${existing.displayName}`,
    available: 0,
    warning: 0,
    suspended: 0,
    lockedOut: 0,
    consumedUnits: 0,
    capabilityStatus: existing.capabilityStatus,
    appliesTo: existing.appliesTo,
    overAssigned: false,
    status: 'goneFromPortal',
    statusMessage: GONE_FROM_PORTAL,
  };
}

/**
 * One run's reconciliation, fed the tenant's users a page at a time, so a run never holds the whole tenant nor
 * the whole plan. `addUsers` returns the contacts and links of those users (safe to apply at once: nothing is
 * removed before the read is complete); `finish` returns the removals, the licenses and the user links.
 */
export class Reconciliation {
  private readonly counts = emptyCounts();
  private readonly links = new Map<string, SyncLink>();
  /** Consumer key -> the objectId it stands for ('' when a person linked it), for every link the tenant holds. */
  private readonly seen = new Map<string, string>();
  private readonly createdByAddress = new Map<string, string>();
  /** Net consumers added per skuId by this run. */
  private readonly netAdded = new Map<string, number>();
  private readonly existingLicenses: Map<string, LicenseRecord>;
  private readonly linkableSkus: Set<string>;
  private readonly mentioned = new Set<string>();
  private finished = false;

  constructor(private readonly setup: ReconciliationSetup) {
    const { state, plans } = setup;
    this.counts.plansRead = plans.length;
    this.existingLicenses = new Map(state.licenses.map((license) => [license.skuId, license]));
    // Licenses this run can link to: the tenant's plans, and licenses of plans that have left it.
    this.linkableSkus = new Set<string>([...this.existingLicenses.keys(), ...plans.map((p) => p.skuId)]);
    for (const id of setup.removedObjectIds ?? []) this.mentioned.add(id);
    for (const consumer of state.consumers.values()) {
      if (!consumer.sync || !consumer.objectId || this.links.has(consumer.objectId)) continue;
      this.links.set(consumer.objectId, { contactId: consumer.contactId, fingerprint: consumer.fingerprintDigest });
    }
  }

  /** Which of these users' addresses must be looked up (none for a user already linked and unchanged). */
  addressesToLookUp(users: readonly TenantUser[]): Set<string> {
    const wanted = new Set<string>();
    for (const user of users) {
      if (user.plans.length === 0) continue;
      const link = this.links.get(user.objectId);
      if (link && link.fingerprint === fingerprintDigest(userFingerprint(user))) continue;
      for (const address of user.addresses) wanted.add(address);
    }
    return wanted;
  }

  /** Reconciles a page of users: the contacts to create or extend and the links to add or update. */
  addUsers(users: readonly TenantUser[], contactIdsByAddress: ReadonlyMap<string, string>): ChangePlan {
    if (this.finished) throw new Error('The reconciliation has finished.');
    const { portal, state, now } = this.setup;
    const part = emptyPlan(portal.id, this.counts);
    this.counts.usersRead += users.length;

    for (const user of users) {
      this.mentioned.add(user.objectId);
      const heldPlans = user.plans.filter((held) => this.linkableSkus.has(held.skuId));
      if (heldPlans.length === 0) continue;
      const fingerprint = userFingerprint(user);
      const fingerprintHash = fingerprintDigest(fingerprint);

      let contactId: string;
      const link = this.links.get(user.objectId);
      if (link) {
        contactId = link.contactId;
        if (link.fingerprint !== fingerprintHash) {
          // Renamed or new addresses: they become aliases of the same contact, unless another contact holds them.
          const free = user.addresses.filter((address) => {
            const holder = contactIdsByAddress.get(address) ?? this.createdByAddress.get(address);
            return holder === undefined || holder === contactId;
          });
          const unknown = free.filter((address) => contactIdsByAddress.get(address) !== contactId);
          if (unknown.length > 0) {
            part.contacts.addAliases.push({ contactId, addresses: unknown });
            this.counts.contactsUpdated++;
          }
        }
      } else {
        const holders = new Set<string>();
        for (const address of user.addresses) {
          const holder = contactIdsByAddress.get(address) ?? this.createdByAddress.get(address);
          if (holder) holders.add(holder);
        }
        if (holders.size > 1) {
          const conflict: Conflict = {
            objectId: user.objectId,
            userPrincipalName: user.userPrincipalName,
            addresses: user.addresses,
            contactIds: [...holders].sort(),
          };
          part.conflicts.push(conflict);
          this.counts.conflicts++;
          continue;
        }
        const [holder] = holders;
        if (holder) {
          contactId = holder;
        } else {
          const contact = contactFromUser(user, this.setup.newContactId(), portal.id, now);
          part.contacts.create.push(contact);
          this.counts.contactsCreated++;
          contactId = contact.id;
          for (const address of user.addresses) this.createdByAddress.set(address, contact.id);
        }
      }

      for (const held of heldPlans) {
        const key = consumerKey(held.skuId, contactId);
        if (this.seen.has(key)) continue; // two accounts of one contact holding the same plan: one link
        const existing = state.consumers.get(key);
        if (existing && !existing.sync) {
          this.seen.set(key, ''); // a person linked them: leave it alone
          continue;
        }
        this.seen.set(key, user.objectId);
        const assignment = assignmentOf(user, held);
        if (existing) {
          if (existing.digest !== assignmentDigest(assignment) || existing.fingerprintDigest !== fingerprintHash) {
            part.consumers.update.push({
              licenseId: licenseIdOf(portal.id, held.skuId),
              portalId: portal.id,
              skuId: held.skuId,
              contactId,
              assignment,
              userFingerprint: fingerprint,
              updatedAt: now,
            });
            this.counts.consumersUpdated++;
          }
          continue;
        }
        part.consumers.add.push({
          licenseId: licenseIdOf(portal.id, held.skuId),
          portalId: portal.id,
          skuId: held.skuId,
          contactId,
          owner: { kind: 'sync', portalId: portal.id },
          createdAt: now,
          updatedAt: now,
          assignment,
          firstSeen: now,
          userFingerprint: fingerprint,
        });
        this.netAdded.set(held.skuId, (this.netAdded.get(held.skuId) ?? 0) + 1);
        this.counts.consumersAdded++;
      }
    }
    return part;
  }

  /**
   * Licenses of plans the ledger does not have yet, as they stand before any link: a run that applies in parts
   * writes them first, so a consumer never names a missing license. `finish` names them again with their counts.
   */
  newLicenses(): LicenseRecord[] {
    const { portal, plans, planNames, now } = this.setup;
    return plans
      .filter((plan) => !this.existingLicenses.has(plan.skuId))
      .map((plan) => ({
        id: licenseIdOf(portal.id, plan.skuId),
        portalId: portal.id,
        skuId: plan.skuId,
        ...licenseValuesFromPlan(plan, portal.name, planNames),
        assigned: 0,
        createdAt: now,
        updatedAt: now,
      }));
  }

  /** After the last page: the links to remove, the licenses with their counts, and the user links. */
  finish(): ChangePlan {
    if (this.finished) throw new Error('The reconciliation has finished.');
    this.finished = true;
    const { portal, state, plans, mode } = this.setup;
    const part = emptyPlan(portal.id, this.counts);

    // In a delta read, only users mentioned (changed or removed) are reconciled; the rest keep their consumers.
    const inScope = (objectId: string | undefined): boolean =>
      mode === 'full' || (!!objectId && this.mentioned.has(objectId));
    for (const [key, consumer] of state.consumers) {
      if (!consumer.sync || this.seen.has(key) || !inScope(consumer.objectId)) continue;
      part.consumers.remove.push({
        licenseId: licenseIdOf(portal.id, consumer.skuId),
        portalId: portal.id,
        skuId: consumer.skuId,
        contactId: consumer.contactId,
        objectId: consumer.objectId,
      });
      this.netAdded.set(consumer.skuId, (this.netAdded.get(consumer.skuId) ?? 0) - 1);
      this.counts.consumersRemoved++;
    }

    // Consumers per license after this run: counted from the whole state, or (delta) the stored count moved by
    // what this run added and removed.
    const stateCounts = new Map<string, number>();
    if (state.scope === 'full') {
      for (const consumer of state.consumers.values())
        stateCounts.set(consumer.skuId, (stateCounts.get(consumer.skuId) ?? 0) + 1);
    }
    const assignedOf = (skuId: string): number => {
      const base =
        state.scope === 'full' ? (stateCounts.get(skuId) ?? 0) : (this.existingLicenses.get(skuId)?.assigned ?? 0);
      return Math.max(0, base + (this.netAdded.get(skuId) ?? 0));
    };
    const planSkus = new Set<string>();
    for (const tenantPlan of plans) {
      planSkus.add(tenantPlan.skuId);
      const values = licenseValuesFromPlan(tenantPlan, portal.name, this.setup.planNames);
      this.diffLicense(
        part,
        this.existingLicenses.get(tenantPlan.skuId),
        values,
        tenantPlan.skuId,
        assignedOf(tenantPlan.skuId),
      );
    }
    for (const existing of state.licenses) {
      if (planSkus.has(existing.skuId)) continue;
      this.diffLicense(
        part,
        existing,
        licenseValuesGone(existing, portal.name),
        existing.skuId,
        assignedOf(existing.skuId),
      );
    }
    this.counts.licensesCreated = part.licenses.create.length;
    this.counts.licensesUpdated = part.licenses.update.length;

    // The user links: which contact and plans each user's sync-owned consumers stand for.
    const wanted = new Map<string, UserLink>();
    for (const [key, objectId] of this.seen) {
      if (!objectId) continue;
      const { skuId, contactId } = splitConsumerKey(key);
      const link = wanted.get(objectId);
      if (link) link.skuIds.push(skuId);
      else wanted.set(objectId, { objectId, contactId, skuIds: [skuId] });
    }
    for (const link of wanted.values()) {
      link.skuIds.sort();
      const stored = state.userLinks.get(link.objectId);
      if (!stored || stored.contactId !== link.contactId || stored.skuIds.join(',') !== link.skuIds.join(','))
        part.userLinks.put.push(link);
    }
    for (const objectId of state.userLinks.keys()) {
      if (!wanted.has(objectId) && inScope(objectId)) part.userLinks.remove.push(objectId);
    }
    return part;
  }

  /** The counts so far (all of them once finished). */
  currentCounts(): RunCounts {
    return this.counts;
  }

  private diffLicense(
    part: ChangePlan,
    existing: LicenseRecord | undefined,
    values: LicenseValues,
    skuId: string,
    assigned: number,
  ): void {
    const { portal, now } = this.setup;
    if (!existing) {
      part.licenses.create.push({
        id: licenseIdOf(portal.id, skuId),
        portalId: portal.id,
        skuId,
        ...values,
        assigned,
        createdAt: now,
        updatedAt: now,
      });
      return;
    }
    const desired: LicenseRecord = { ...existing, ...values, assigned, updatedAt: existing.updatedAt };
    if (!sameLicenseValues(existing, desired)) part.licenses.update.push({ ...desired, updatedAt: now });
  }
}

/** The whole reconciliation at once: (tenant snapshot, this portal's ledger state) -> plan of changes. */
export function reconcile(input: ReconcileInput): ChangePlan {
  const reconciliation = new Reconciliation({
    portal: input.portal,
    plans: input.snapshot.plans,
    mode: input.snapshot.mode,
    removedObjectIds: input.snapshot.removedObjectIds,
    state: input.state,
    planNames: input.planNames,
    now: input.now,
    newContactId: input.newContactId,
  });
  const plan = reconciliation.addUsers(input.snapshot.users, input.contactIdsByAddress);
  appendPlan(plan, reconciliation.finish());
  plan.counts = reconciliation.currentCounts();
  return plan;
}

function contactFromUser(user: TenantUser, id: string, portalId: string, now: string): ContactRecord {
  const primary = user.primaryEmail.trim();
  const primaryKey = primary.toLowerCase();
  return {
    id,
    email: primary,
    aliases: user.addresses.filter((address) => address !== primaryKey),
    displayName: user.displayName || primary,
    origin: { kind: 'sync', portalId },
    createdAt: now,
    updatedAt: now,
  };
}
