import type { PortalLedgerState } from '../domain/ledger';
import type { ChangePlan } from '../domain/plan';
import type { PlanNames } from '../domain/ports';
import { licenseIdOf, type Assignment, type ContactRecord, type LicenseRecord } from '../domain/records';
import type { TenantPlan, TenantUser, TenantUserPlan } from '../domain/tenant';

/** What the ledger's records should hold, derived from what the tenant says. Pure. */

const GONE_FROM_PORTAL = "This plan is no longer among the tenant's subscribed plans.";

export function assignmentOf(user: TenantUser, plan: TenantUserPlan): Assignment {
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
  'nextLifecycleAt',
  'trial',
] as const satisfies readonly (keyof LicenseRecord)[];

function sameLicenseValues(a: LicenseRecord, b: LicenseRecord): boolean {
  return (
    LICENSE_VALUE_FIELDS.every((field) => a[field] === b[field]) &&
    // Both sides list their fields in the schema's order (fresh from the read, or parsed by the schema).
    JSON.stringify(a.subscriptions) === JSON.stringify(b.subscriptions)
  );
}

type LicenseValues = Omit<LicenseRecord, 'id' | 'portalId' | 'skuId' | 'assigned' | 'createdAt' | 'updatedAt'>;

export function licenseValuesFromPlan(plan: TenantPlan, portalName: string, names: PlanNames): LicenseValues {
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
    // Not read this run: the license keeps the subscriptions it had.
    ...(plan.subscriptions
      ? {
          subscriptions: plan.subscriptions.subscriptions,
          nextLifecycleAt: plan.subscriptions.nextLifecycleAt,
          trial: plan.subscriptions.trial,
        }
      : {}),
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

export function contactFromUser(user: TenantUser, id: string, portalId: string, now: string): ContactRecord {
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

interface LicensePlanning {
  portal: { id: string; name: string };
  plans: TenantPlan[];
  state: PortalLedgerState;
  /** The portal's licenses before the run, by skuId. */
  existing: ReadonlyMap<string, LicenseRecord>;
  /** Consumers added (net) per skuId by the run. */
  netAdded: ReadonlyMap<string, number>;
  planNames: PlanNames;
  now: string;
}

/**
 * Adds to `part` the licenses to create or update after a run: one per tenant plan, and those of plans that have
 * left the tenant, each with its count of consumers.
 */
export function planLicenses(part: ChangePlan, input: LicensePlanning): void {
  const { portal, plans, state, existing, netAdded, planNames, now } = input;
  // Consumers per license after this run: counted from the whole state, or (delta) the stored count moved by
  // what this run added and removed.
  const stateCounts = new Map<string, number>();
  if (state.scope === 'full') {
    for (const consumer of state.consumers.values())
      stateCounts.set(consumer.skuId, (stateCounts.get(consumer.skuId) ?? 0) + 1);
  }
  const assignedOf = (skuId: string): number => {
    const base = state.scope === 'full' ? (stateCounts.get(skuId) ?? 0) : (existing.get(skuId)?.assigned ?? 0);
    return Math.max(0, base + (netAdded.get(skuId) ?? 0));
  };
  const diff = (before: LicenseRecord | undefined, values: LicenseValues, skuId: string): void => {
    const assigned = assignedOf(skuId);
    if (!before) {
      const id = licenseIdOf(portal.id, skuId);
      part.licenses.create.push({
        id,
        portalId: portal.id,
        skuId,
        ...values,
        assigned,
        createdAt: now,
        updatedAt: now,
      });
      return;
    }
    const desired: LicenseRecord = { ...before, ...values, assigned, updatedAt: before.updatedAt };
    if (!sameLicenseValues(before, desired)) part.licenses.update.push({ ...desired, updatedAt: now });
  };
  const planSkus = new Set<string>();
  for (const tenantPlan of plans) {
    planSkus.add(tenantPlan.skuId);
    diff(existing.get(tenantPlan.skuId), licenseValuesFromPlan(tenantPlan, portal.name, planNames), tenantPlan.skuId);
  }
  for (const license of state.licenses) {
    if (!planSkus.has(license.skuId)) diff(license, licenseValuesGone(license, portal.name), license.skuId);
  }
}
