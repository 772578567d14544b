import type { PlanNames } from '../app/services';
import {
  emptyCounts, licenseIdOf, type Assignment, type Conflict, type ConsumerRecord, type ContactRecord,
  type LicenseRecord,
} from '../domain/records';
import type { TenantPlan, TenantUser, TenantUserPlan } from '../graph/types';
import type { PortalLedgerState } from '../ledger/types';
import type { ChangePlan } from './plan';

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

export const GONE_FROM_PORTAL = 'This plan is no longer among the tenant\'s subscribed plans.';

/** The user's identity as the consumer remembers it: a change means a rename or new addresses. */
export function userFingerprint(user: TenantUser): string {
  return `${user.addresses.join(',')}|${user.displayName}`;
}

/** Which of a user's addresses the reconciliation must look up (none when the user is already linked and unchanged). */
export function addressesToLookUp(snapshot: TenantSnapshot, state: PortalLedgerState, portalId: string): Set<string> {
  const linked = syncLinksByObjectId(state, portalId);
  const wanted = new Set<string>();
  for (const user of snapshot.users) {
    if (user.plans.length === 0) continue;
    const link = linked.get(user.objectId);
    if (link && link.fingerprint === userFingerprint(user)) continue;
    for (const address of user.addresses) wanted.add(address);
  }
  return wanted;
}

interface SyncLink {
  contactId: string;
  fingerprint: string | undefined;
}

function isSyncOwned(consumer: ConsumerRecord, portalId: string): boolean {
  return consumer.owner.kind === 'sync' && consumer.owner.portalId === portalId;
}

function syncLinksByObjectId(state: PortalLedgerState, portalId: string): Map<string, SyncLink> {
  const links = new Map<string, SyncLink>();
  for (const consumer of state.consumers) {
    if (!isSyncOwned(consumer, portalId) || !consumer.assignment) continue;
    if (!links.has(consumer.assignment.objectId)) {
      links.set(consumer.assignment.objectId, { contactId: consumer.contactId, fingerprint: consumer.userFingerprint });
    }
  }
  return links;
}

const consumerKey = (skuId: string, contactId: string): string => `${skuId}|${contactId}`;

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

function sameAssignment(a: Assignment | undefined, b: Assignment): boolean {
  return (
    !!a &&
    a.objectId === b.objectId &&
    a.userPrincipalName === b.userPrincipalName &&
    a.assignedDirectly === b.assignedDirectly &&
    a.assignedViaGroups.length === b.assignedViaGroups.length &&
    a.assignedViaGroups.every((group, i) => group === b.assignedViaGroups[i]) &&
    a.assignmentState === b.assignmentState &&
    a.assignmentError === b.assignmentError &&
    a.accountEnabled === b.accountEnabled &&
    a.userType === b.userType
  );
}

const LICENSE_VALUE_FIELDS = [
  'skuPartNumber', 'displayName', 'name', 'available', 'warning', 'suspended', 'lockedOut', 'consumedUnits',
  'assigned', 'capabilityStatus', 'appliesTo', 'overAssigned', 'status', 'statusMessage',
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

export function reconcile(input: ReconcileInput): ChangePlan {
  const { portal, snapshot, state, now } = input;
  const counts = emptyCounts();
  counts.plansRead = snapshot.plans.length;
  counts.usersRead = snapshot.users.length;

  const plan: ChangePlan = {
    portalId: portal.id,
    licenses: { create: [], update: [] },
    contacts: { create: [], addAliases: [] },
    consumers: { add: [], update: [], remove: [] },
    conflicts: [],
    counts,
  };

  // Licenses this run can link to: the tenant's plans, and licenses of plans that have left it.
  const existingLicenses = new Map(state.licenses.map((license) => [license.skuId, license]));
  const linkableSkus = new Set<string>([...existingLicenses.keys(), ...snapshot.plans.map((p) => p.skuId)]);

  const consumersByKey = new Map<string, ConsumerRecord>();
  for (const consumer of state.consumers) consumersByKey.set(consumerKey(consumer.skuId, consumer.contactId), consumer);
  const links = syncLinksByObjectId(state, portal.id);

  // In a delta read, only users mentioned (changed or removed) are reconciled; the rest keep their consumers.
  const inScope: (consumer: ConsumerRecord) => boolean =
    snapshot.mode === 'full'
      ? () => true
      : (() => {
          const mentioned = new Set<string>(snapshot.removedObjectIds ?? []);
          for (const user of snapshot.users) mentioned.add(user.objectId);
          return (consumer: ConsumerRecord) => !!consumer.assignment && mentioned.has(consumer.assignment.objectId);
        })();

  const seen = new Set<string>();
  const createdByAddress = new Map<string, string>();
  const finalConsumers = new Map(consumersByKey);

  for (const user of snapshot.users) {
    const heldPlans = user.plans.filter((held) => linkableSkus.has(held.skuId));
    if (heldPlans.length === 0) continue;
    const fingerprint = userFingerprint(user);

    let contactId: string;
    const link = links.get(user.objectId);
    if (link) {
      contactId = link.contactId;
      if (link.fingerprint !== fingerprint) {
        // Renamed or new addresses: they become aliases of the same contact, unless another contact holds them.
        const free = user.addresses.filter((address) => {
          const holder = input.contactIdsByAddress.get(address) ?? createdByAddress.get(address);
          return holder === undefined || holder === contactId;
        });
        const unknown = free.filter((address) => input.contactIdsByAddress.get(address) !== contactId);
        if (unknown.length > 0) {
          plan.contacts.addAliases.push({ contactId, addresses: unknown });
          counts.contactsUpdated++;
        }
      }
    } else {
      const holders = new Set<string>();
      for (const address of user.addresses) {
        const holder = input.contactIdsByAddress.get(address) ?? createdByAddress.get(address);
        if (holder) holders.add(holder);
      }
      if (holders.size > 1) {
        const conflict: Conflict = {
          objectId: user.objectId,
          userPrincipalName: user.userPrincipalName,
          addresses: user.addresses,
          contactIds: [...holders].sort(),
        };
        plan.conflicts.push(conflict);
        counts.conflicts++;
        continue;
      }
      const [holder] = holders;
      if (holder) {
        contactId = holder;
      } else {
        const contact = contactFromUser(user, input.newContactId(), portal.id, now);
        plan.contacts.create.push(contact);
        counts.contactsCreated++;
        contactId = contact.id;
        for (const address of user.addresses) createdByAddress.set(address, contact.id);
      }
    }

    for (const held of heldPlans) {
      const key = consumerKey(held.skuId, contactId);
      if (seen.has(key)) continue; // two accounts of one contact holding the same plan: one link
      seen.add(key);
      const existing = consumersByKey.get(key);
      const assignment = assignmentOf(user, held);
      if (existing && !isSyncOwned(existing, portal.id)) continue; // a person linked them: leave it alone
      if (existing) {
        if (!sameAssignment(existing.assignment, assignment) || existing.userFingerprint !== fingerprint) {
          const updated: ConsumerRecord = { ...existing, assignment, userFingerprint: fingerprint, updatedAt: now };
          plan.consumers.update.push(updated);
          finalConsumers.set(key, updated);
          counts.consumersUpdated++;
        }
        continue;
      }
      const added: ConsumerRecord = {
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
      };
      plan.consumers.add.push(added);
      finalConsumers.set(key, added);
      counts.consumersAdded++;
    }
  }

  for (const [key, consumer] of consumersByKey) {
    if (!isSyncOwned(consumer, portal.id) || seen.has(key) || !inScope(consumer)) continue;
    plan.consumers.remove.push(consumer);
    finalConsumers.delete(key);
    counts.consumersRemoved++;
  }

  const assignedBySku = new Map<string, number>();
  for (const consumer of finalConsumers.values()) {
    assignedBySku.set(consumer.skuId, (assignedBySku.get(consumer.skuId) ?? 0) + 1);
  }

  const planSkus = new Set<string>();
  for (const tenantPlan of snapshot.plans) {
    planSkus.add(tenantPlan.skuId);
    const values = licenseValuesFromPlan(tenantPlan, portal.name, input.planNames);
    diffLicense(plan, existingLicenses.get(tenantPlan.skuId), values, tenantPlan.skuId, assignedBySku, input);
  }
  for (const existing of state.licenses) {
    if (planSkus.has(existing.skuId)) continue;
    diffLicense(plan, existing, licenseValuesGone(existing, portal.name), existing.skuId, assignedBySku, input);
  }
  counts.licensesCreated = plan.licenses.create.length;
  counts.licensesUpdated = plan.licenses.update.length;
  return plan;
}

function diffLicense(
  plan: ChangePlan,
  existing: LicenseRecord | undefined,
  values: LicenseValues,
  skuId: string,
  assignedBySku: ReadonlyMap<string, number>,
  input: ReconcileInput,
): void {
  const assigned = assignedBySku.get(skuId) ?? 0;
  if (!existing) {
    plan.licenses.create.push({
      id: licenseIdOf(input.portal.id, skuId),
      portalId: input.portal.id,
      skuId,
      ...values,
      assigned,
      createdAt: input.now,
      updatedAt: input.now,
    });
    return;
  }
  const desired: LicenseRecord = { ...existing, ...values, assigned, updatedAt: existing.updatedAt };
  if (!sameLicenseValues(existing, desired)) plan.licenses.update.push({ ...desired, updatedAt: input.now });
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
