import type { LicenseAssignmentState, SubscribedSku, User } from '@microsoft/microsoft-graph-types';
import { normalizeAddress } from '../domain/records';
import type { TenantPlan, TenantUser, TenantUserPlan } from '../domain/tenant';

/** Just the user properties the reconciliation needs: the $select of every /users and /users/delta read. */
export const USER_SELECT = [
  'id',
  'displayName',
  'mail',
  'userPrincipalName',
  'proxyAddresses',
  'accountEnabled',
  'userType',
  'assignedLicenses',
  'licenseAssignmentStates',
] as const;

/** mail, userPrincipalName, then the smtp: proxy addresses (primary SMTP: too); lower-cased, unique. */
export function userAddresses(user: User): string[] {
  const candidates = [
    user.mail,
    user.userPrincipalName,
    ...(user.proxyAddresses ?? []).filter((proxy) => /^smtp:/i.test(proxy)).map((proxy) => proxy.slice(5)),
  ];
  const addresses: string[] = [];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const address = normalizeAddress(candidate);
    if (address && !addresses.includes(address)) addresses.push(address);
  }
  return addresses;
}

/**
 * The plans a user holds (assignedLicenses), each joined with its licenseAssignmentStates: assigned directly
 * (a state without assignedByGroup) and/or via which groups. An assignment that failed for every source (e.g.
 * a group license with CountViolation) is not in assignedLicenses: the user does not hold that plan.
 */
export function userPlans(user: User): TenantUserPlan[] {
  const states = user.licenseAssignmentStates ?? [];
  const plans: TenantUserPlan[] = [];
  const seen = new Set<string>();
  for (const license of user.assignedLicenses ?? []) {
    if (!license.skuId) continue;
    const skuId = license.skuId.toLowerCase();
    if (seen.has(skuId)) continue;
    seen.add(skuId);
    const forSku = states.filter((s) => s.skuId?.toLowerCase() === skuId);
    const direct = forSku.find((s) => !s.assignedByGroup);
    const viaGroups = [
      ...new Set(forSku.flatMap((s) => (s.assignedByGroup ? [s.assignedByGroup.toLowerCase()] : []))),
    ].sort();
    // Without any state (not selected, or not reported yet) the assignment can only be a direct one.
    const primary: LicenseAssignmentState | undefined = direct ?? forSku.find((s) => s.assignedByGroup);
    plans.push({
      skuId,
      assignedDirectly: forSku.length === 0 || direct !== undefined,
      assignedViaGroups: viaGroups,
      state: primary?.state ?? 'Active',
      error: primary?.error ?? 'None',
    });
  }
  return plans;
}

/** Assignments that failed for every source: in licenseAssignmentStates (state Error), not in assignedLicenses. */
export function failedPlans(user: User): { skuId: string; error: string }[] {
  const held = new Set((user.assignedLicenses ?? []).flatMap((l) => (l.skuId ? [l.skuId.toLowerCase()] : [])));
  const failed = new Map<string, string>();
  for (const state of user.licenseAssignmentStates ?? []) {
    const skuId = state.skuId?.toLowerCase();
    if (!skuId || held.has(skuId) || state.state !== 'Error' || failed.has(skuId)) continue;
    failed.set(skuId, state.error ?? 'Other');
  }
  return [...failed].map(([skuId, error]) => ({ skuId, error }));
}

export function toTenantUser(user: User): TenantUser {
  const userPrincipalName = user.userPrincipalName ?? '';
  const failed = failedPlans(user);
  return {
    objectId: (user.id ?? '').toLowerCase(),
    displayName: user.displayName ?? userPrincipalName,
    userPrincipalName,
    addresses: userAddresses(user),
    primaryEmail: (user.mail || userPrincipalName).trim(),
    accountEnabled: user.accountEnabled ?? true,
    userType: user.userType ?? 'Member',
    plans: userPlans(user),
    ...(failed.length > 0 ? { failedPlans: failed } : {}),
  };
}

export function toTenantPlan(sku: SubscribedSku): TenantPlan {
  const units = sku.prepaidUnits ?? {};
  return {
    skuId: (sku.skuId ?? '').toLowerCase(),
    skuPartNumber: sku.skuPartNumber ?? '',
    capabilityStatus: sku.capabilityStatus ?? 'Enabled',
    appliesTo: sku.appliesTo ?? 'User',
    consumedUnits: sku.consumedUnits ?? 0,
    prepaidUnits: {
      enabled: units.enabled ?? 0,
      warning: units.warning ?? 0,
      suspended: units.suspended ?? 0,
      lockedOut: units.lockedOut ?? 0,
    },
  };
}
