import type { Assignment, Conflict, ConsumerRecord, ContactRecord, LicenseRecord, RunCounts } from './records';

/** A sync-owned consumer whose assignment or user changed: only these fields are written (a merge). */
export interface ConsumerUpdate {
  licenseId: string;
  portalId: string;
  skuId: string;
  contactId: string;
  assignment: Assignment;
  userFingerprint: string;
  updatedAt: string;
}

/** A sync-owned consumer to unlink, by its key (and, for people reading a plan, the account it stood for). */
export interface ConsumerRemoval {
  licenseId: string;
  portalId: string;
  skuId: string;
  contactId: string;
  objectId?: string;
  userPrincipalName?: string;
}

/**
 * The sync's own bookkeeping per tenant user: which contact the user is linked to and which plans link it
 * there. A delta run reads just the rows of the users Graph says changed, instead of the whole ledger.
 */
export interface UserLink {
  objectId: string;
  contactId: string;
  /** Sorted skuIds of this portal's sync-owned consumers standing for this user. */
  skuIds: string[];
}

/**
 * The plan of changes one run makes to the ledger: computed by the pure reconciliation, applied by the ledger
 * store, returned as-is by a dry run. A large full run applies it in parts, a page of users at a time.
 */
export interface ChangePlan {
  portalId: string;
  licenses: {
    create: LicenseRecord[];
    /** Full records with the new values; only licenses whose values changed. */
    update: LicenseRecord[];
  };
  contacts: {
    /** New contacts made from users (origin: sync of this portal). */
    create: ContactRecord[];
    /** Addresses to add as aliases to existing contacts (a user got a new address). */
    addAliases: { contactId: string; addresses: string[] }[];
  };
  consumers: {
    add: ConsumerRecord[];
    /** Only consumers whose assignment or user changed. */
    update: ConsumerUpdate[];
    /** Sync-owned consumers of this portal that the run did not see. */
    remove: ConsumerRemoval[];
  };
  /** The sync's per-user rows to write (new or changed) and to delete (users no longer linked). */
  userLinks: { put: UserLink[]; remove: string[] };
  conflicts: Conflict[];
  counts: RunCounts;
}

export function emptyPlan(portalId: string, counts: RunCounts): ChangePlan {
  return {
    portalId,
    licenses: { create: [], update: [] },
    contacts: { create: [], addAliases: [] },
    consumers: { add: [], update: [], remove: [] },
    userLinks: { put: [], remove: [] },
    conflicts: [],
    counts,
  };
}

/**
 * Appends the changes of `part` to `plan` (the counts stay the plan's), each list up to `limit` items. Returns
 * whether something was left out.
 */
export function appendPlan(plan: ChangePlan, part: ChangePlan, limit = Number.POSITIVE_INFINITY): boolean {
  let truncated = false;
  // A loop, not push(...items): a part may hold more items than a call may take arguments.
  const append = <T>(to: T[], from: readonly T[]): void => {
    for (const item of from) {
      if (to.length >= limit) {
        truncated = true;
        return;
      }
      to.push(item);
    }
  };
  append(plan.licenses.create, part.licenses.create);
  append(plan.licenses.update, part.licenses.update);
  append(plan.contacts.create, part.contacts.create);
  append(plan.contacts.addAliases, part.contacts.addAliases);
  append(plan.consumers.add, part.consumers.add);
  append(plan.consumers.update, part.consumers.update);
  append(plan.consumers.remove, part.consumers.remove);
  append(plan.userLinks.put, part.userLinks.put);
  append(plan.userLinks.remove, part.userLinks.remove);
  append(plan.conflicts, part.conflicts);
  return truncated;
}
