import type { Conflict, ConsumerRecord, ContactRecord, LicenseRecord, RunCounts } from '../domain/records';

/**
 * The plan of changes one run makes to the ledger: computed by the pure reconciliation, applied by the ledger
 * store, returned as-is by a dry run.
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
    /** Full records with the new values; only consumers whose values changed. */
    update: ConsumerRecord[];
    /** Sync-owned consumers of this portal that the run did not see. */
    remove: ConsumerRecord[];
  };
  conflicts: Conflict[];
  counts: RunCounts;
}

export function isEmptyPlan(plan: ChangePlan): boolean {
  return (
    plan.licenses.create.length === 0 &&
    plan.licenses.update.length === 0 &&
    plan.contacts.create.length === 0 &&
    plan.contacts.addAliases.length === 0 &&
    plan.consumers.add.length === 0 &&
    plan.consumers.update.length === 0 &&
    plan.consumers.remove.length === 0
  );
}
