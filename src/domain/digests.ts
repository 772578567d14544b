import { createHash } from 'node:crypto';
import type { Assignment } from './records';
import type { TenantUser } from './tenant';

/**
 * Short comparable values of what the sync stores on each consumer: the ledger keeps only these in memory, and the
 * reconciliation compares them with what it reads from the tenant.
 */

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
