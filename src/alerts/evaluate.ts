import { willRenew } from '../insights/subscriptions';
import { isExcluded, RULE_SEVERITY, type AlertRule, type AlertRules, type Severity } from './rules';

/**
 * Which conditions hold, from the ledger's facts: pure, so the same code runs after a portal's run (on the data
 * that run wrote) and in the daily pass for the rules that depend on the date.
 */

const DAY_MS = 86_400_000;

export interface LicenseFacts {
  licenseId: string;
  portalId: string;
  skuId: string;
  name: string;
  available: number;
  consumedUnits: number;
  /** Sync-owned consumers whose assignment is in an error state, plus the failed assignments. */
  assignmentErrors: number;
  /** Of those, users whose assignment failed for every source (e.g. CountViolation): they hold no seat. */
  failedAssignments?: number;
  nextLifecycleAt?: string;
  /** Absent while the portal does not read sign-in activity. */
  inactiveHolders?: number;
}

export interface PortalFacts {
  portalId: string;
  name: string;
  /** Failed runs since the last successful one. */
  consecutiveFailures: number;
  lastErrorCode?: string;
  lastErrorMessage?: string;
  credentialExpiresAt?: string;
  /** Active, synced automatically and not being deleted: the timer should keep it fresh. */
  autoSyncing?: boolean;
  /** End of its last successful run. */
  lastSuccessAt?: string;
  /** When it was added: a portal that never succeeded is stale from then on. */
  createdAt?: string;
}

export interface RenewalFacts {
  portalId: string;
  licenseId: string;
  skuId: string;
  licenseName: string;
  subscriptionId: string;
  /** Graph's companySubscription status and isTrial: only an Enabled, paid subscription renews. */
  status: string;
  isTrial: boolean;
  nextLifecycleAt: string;
  totalLicenses: number;
  recommendedSeats: number;
  seatsToCut: number;
  savingsPerTerm?: number;
  currency?: string;
}

export interface Facts {
  licenses: LicenseFacts[];
  portals: PortalFacts[];
  renewals: RenewalFacts[];
}

/** One condition on one subject: what an open alert stands for. */
export interface Condition {
  rule: AlertRule;
  /** Identifies the subject within the rule: the same subject keeps one alert open. */
  subject: string;
  portalId: string;
  licenseId?: string;
  severity: Severity;
  message: string;
  details: Record<string, string | number | boolean>;
}

function condition(
  rule: AlertRule,
  subject: { portalId: string; licenseId?: string; key?: string },
  message: string,
  details: Condition['details'],
): Condition {
  return {
    rule,
    subject: [subject.portalId, subject.key ?? subject.licenseId ?? ''].join('/'),
    portalId: subject.portalId,
    ...(subject.licenseId ? { licenseId: subject.licenseId } : {}),
    severity: RULE_SEVERITY[rule],
    message,
    details,
  };
}

function daysUntil(at: string, now: Date): number {
  return Math.ceil((Date.parse(at) - now.getTime()) / DAY_MS);
}

function within(at: string | undefined, days: number, now: Date): at is string {
  return at !== undefined && !Number.isNaN(Date.parse(at)) && Date.parse(at) <= now.getTime() + days * DAY_MS;
}

function whenText(at: string, now: Date): string {
  const days = daysUntil(at, now);
  return days < 0 ? `${count(-days, 'day')} ago` : days === 0 ? 'today' : days === 1 ? 'tomorrow' : `in ${days} days`;
}

/** "1 seat", "2 seats": messages are read by people (the page, e-mail, Teams). */
function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

function licenseConditions(rules: AlertRules, license: LicenseFacts, now: Date): Condition[] {
  const out: Condition[] = [];
  const free = license.available - license.consumedUnits;
  const base = { skuId: license.skuId, available: license.available, consumedUnits: license.consumedUnits };
  if (free < 0) {
    if (rules.overAssigned.enabled)
      out.push(
        condition('overAssigned', license, `${license.name}: ${-free} more in use than available`, {
          ...base,
          over: -free,
        }),
      );
  } else if (rules.lowStock.enabled && license.available > 0) {
    const { minFree, minFreePercent } = rules.lowStock;
    if (free < minFree || free < (license.available * minFreePercent) / 100)
      out.push(
        condition('lowStock', license, `${license.name}: ${free} of ${license.available} free`, { ...base, free }),
      );
  }
  if (rules.expiring.enabled && within(license.nextLifecycleAt, rules.expiring.days, now))
    out.push(
      condition(
        'expiring',
        license,
        `${license.name}: a subscription renews or expires ${whenText(license.nextLifecycleAt, now)}`,
        { skuId: license.skuId, nextLifecycleAt: license.nextLifecycleAt },
      ),
    );
  if (rules.assignmentErrors.enabled && license.assignmentErrors > 0)
    out.push(
      condition(
        'assignmentErrors',
        license,
        `${license.name}: ${count(license.assignmentErrors, 'assignment')} in error` +
          (license.failedAssignments ? ` (${license.failedAssignments} failed, no seat assigned)` : ''),
        {
          skuId: license.skuId,
          assignmentErrors: license.assignmentErrors,
          ...(license.failedAssignments ? { failedAssignments: license.failedAssignments } : {}),
        },
      ),
    );
  if (
    rules.inactive.enabled &&
    license.inactiveHolders !== undefined &&
    license.inactiveHolders >= rules.inactive.minCount
  )
    out.push(
      condition(
        'inactive',
        license,
        `${license.name}: ${count(license.inactiveHolders, 'holder')} ${license.inactiveHolders === 1 ? 'has' : 'have'} not signed in`,
        {
          skuId: license.skuId,
          inactiveHolders: license.inactiveHolders,
        },
      ),
    );
  return out;
}

function portalConditions(rules: AlertRules, portal: PortalFacts, now: Date): Condition[] {
  const out: Condition[] = [];
  const { consecutive } = rules.runFailures;
  if (rules.runFailures.enabled && portal.consecutiveFailures >= consecutive)
    out.push(
      condition(
        'runFailures',
        portal,
        portal.consecutiveFailures === 1
          ? `${portal.name}: the last run failed`
          : `${portal.name}: the last ${portal.consecutiveFailures} runs failed`,
        {
          consecutiveFailures: portal.consecutiveFailures,
          ...(portal.lastErrorCode ? { errorCode: portal.lastErrorCode } : {}),
          ...(portal.lastErrorMessage ? { errorMessage: portal.lastErrorMessage } : {}),
        },
      ),
    );
  if (rules.credentialExpiry.enabled && within(portal.credentialExpiresAt, rules.credentialExpiry.days, now))
    out.push(
      condition(
        'credentialExpiry',
        portal,
        `${portal.name}: its credential expires ${whenText(portal.credentialExpiresAt, now)}`,
        { credentialExpiresAt: portal.credentialExpiresAt },
      ),
    );
  const stale = staleCondition(rules, portal, now);
  if (stale) out.push(stale);
  return out;
}

function staleCondition(rules: AlertRules, portal: PortalFacts, now: Date): Condition | undefined {
  const since = portal.lastSuccessAt ?? portal.createdAt;
  if (!rules.stale.enabled || !portal.autoSyncing || !since || Number.isNaN(Date.parse(since))) return undefined;
  if (now.getTime() - Date.parse(since) <= rules.stale.hours * 3_600_000) return undefined;
  const last = portal.lastSuccessAt ? `since ${portal.lastSuccessAt.slice(0, 16).replace('T', ' ')} UTC` : 'yet';
  return condition('stale', portal, `${portal.name}: no successful sync ${last}`, {
    hours: rules.stale.hours,
    ...(portal.lastSuccessAt ? { lastSuccessAt: portal.lastSuccessAt } : {}),
  });
}

function renewalCondition(rules: AlertRules, renewal: RenewalFacts, now: Date): Condition | undefined {
  // A trial or an expired (Warning), Suspended or LockedOut subscription loses its seats at its date anyway.
  if (!rules.rightSize.enabled || renewal.seatsToCut <= 0 || !willRenew(renewal)) return undefined;
  if (!within(renewal.nextLifecycleAt, rules.rightSize.days, now) || Date.parse(renewal.nextLifecycleAt) < +now)
    return undefined;
  const money =
    renewal.savingsPerTerm !== undefined && renewal.currency
      ? ` (${renewal.savingsPerTerm.toFixed(2)} ${renewal.currency} per term)`
      : '';
  return condition(
    'rightSize',
    { portalId: renewal.portalId, licenseId: renewal.licenseId, key: renewal.subscriptionId },
    `${renewal.licenseName}: ${count(renewal.seatsToCut, 'seat')} to cut before it renews ${whenText(renewal.nextLifecycleAt, now)}${money}`,
    {
      skuId: renewal.skuId,
      subscriptionId: renewal.subscriptionId,
      nextLifecycleAt: renewal.nextLifecycleAt,
      totalLicenses: renewal.totalLicenses,
      recommendedSeats: renewal.recommendedSeats,
      seatsToCut: renewal.seatsToCut,
      ...(renewal.savingsPerTerm !== undefined ? { savingsPerTerm: renewal.savingsPerTerm } : {}),
      ...(renewal.currency ? { currency: renewal.currency } : {}),
    },
  );
}

/** Every condition that holds, leaving out what the exclusions cover. */
export function evaluate(rules: AlertRules, facts: Facts, now: Date): Condition[] {
  const out: Condition[] = [];
  for (const license of facts.licenses) {
    if (!isExcluded(rules, license)) out.push(...licenseConditions(rules, license, now));
  }
  for (const portal of facts.portals) {
    if (!isExcluded(rules, portal)) out.push(...portalConditions(rules, portal, now));
  }
  for (const renewal of facts.renewals) {
    const found = isExcluded(rules, renewal) ? undefined : renewalCondition(rules, renewal, now);
    if (found) out.push(found);
  }
  return out;
}
