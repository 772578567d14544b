import type { LicenseFacts, PortalFacts } from '../alerts/evaluate';
import type { AlertRule } from '../alerts/rules';
import type { Services } from '../domain/ports';
import {
  consumerRecordSchema,
  licenseRecordSchema,
  portalRecordSchema,
  type LicenseRecord,
  type PortalRecord,
} from '../domain/records';

/**
 * The ledger's facts the alert rules read. Some rules need data that other parts of the app add to the records
 * (a subscription's next lifecycle date, sign-in activity, a credential's expiry): until the records carry it,
 * those rules see nothing, and `unavailableRules` says why.
 */

/** Run history read per portal to count the failures since its last success. */
const RUN_HISTORY = 50;

function optionalString(record: object, field: string): string | undefined {
  const value = (record as Record<string, unknown>)[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const has = (shape: object, field: string) => Object.hasOwn(shape, field);

/** The rules whose data this build of the app does not record yet, with the reason shown next to them. */
export function unavailableRules(): Partial<Record<AlertRule, string>> {
  const out: Partial<Record<AlertRule, string>> = {};
  if (!has(licenseRecordSchema.shape, 'nextLifecycleAt')) {
    const why =
      "Needs the subscriptions' renewal dates, which this version does not read yet; the rule stays inactive.";
    out.expiring = why;
    out.rightSize = why;
  }
  if (!has(portalRecordSchema.shape, 'credentialExpiresAt'))
    out.credentialExpiry = "Needs the credentials' expiry dates, which this version does not record yet.";
  if (!has(consumerRecordSchema.shape, 'inactive'))
    out.inactive = "Needs the users' sign-in activity, which this version does not read yet.";
  return out;
}

/** A license's facts: its counts, its assignment errors and, where recorded, its next lifecycle date. */
export function licenseFacts(license: LicenseRecord, assignmentErrors: Map<string, number>): LicenseFacts {
  const nextLifecycleAt = optionalString(license, 'nextLifecycleAt');
  return {
    licenseId: license.id,
    portalId: license.portalId,
    skuId: license.skuId,
    name: license.name,
    available: license.available,
    consumedUnits: license.consumedUnits,
    // Consumers whose assignment reports an error, and users whose assignment failed outright (no seat).
    assignmentErrors: (assignmentErrors.get(license.skuId) ?? 0) + (license.failedAssignments ?? 0),
    ...(license.failedAssignments ? { failedAssignments: license.failedAssignments } : {}),
    ...(nextLifecycleAt ? { nextLifecycleAt } : {}),
  };
}

/** The licenses of a portal that are still in its tenant, with their facts. */
export async function portalLicenseFacts(
  services: Services,
  portalId: string,
  options: { assignmentErrors: boolean } = { assignmentErrors: true },
): Promise<LicenseFacts[]> {
  const [licenses, errors] = await Promise.all([
    services.ledger.licenses.list(portalId),
    options.assignmentErrors ? services.ledger.licenses.assignmentErrors(portalId) : new Map<string, number>(),
  ]);
  return licenses.filter((license) => license.status === 'current').map((license) => licenseFacts(license, errors));
}

/** A portal's facts: failed runs since its last successful one (skipped and unfinished runs do not count). */
export async function portalFacts(
  services: Services,
  portal: PortalRecord,
  options: { justSucceeded?: boolean } = {},
): Promise<PortalFacts> {
  const runs = options.justSucceeded ? [] : await services.ledger.runs.list(portal.id, RUN_HISTORY);
  let consecutiveFailures = 0;
  let last: { errorCode?: string; errorMessage?: string } | undefined;
  for (const run of runs) {
    if (run.status === 'succeeded') break;
    if (run.status !== 'failed') continue;
    consecutiveFailures += 1;
    last ??= run;
  }
  const credentialExpiresAt = optionalString(portal, 'credentialExpiresAt');
  return {
    portalId: portal.id,
    name: portal.name,
    consecutiveFailures,
    ...(last?.errorCode ? { lastErrorCode: last.errorCode } : {}),
    ...(last?.errorMessage ? { lastErrorMessage: last.errorMessage } : {}),
    ...(credentialExpiresAt ? { credentialExpiresAt } : {}),
    autoSyncing: portal.active && portal.autoSync && !portal.deletingAt,
    ...(portal.lastSuccessAt ? { lastSuccessAt: portal.lastSuccessAt } : {}),
    createdAt: portal.createdAt,
  };
}
