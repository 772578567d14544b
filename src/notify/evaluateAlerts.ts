import { createHash, randomUUID } from 'node:crypto';
import { evaluate, type Condition, type Facts } from '../alerts/evaluate';
import { alertChanges, DATED_RULES, type OpenAlert } from '../alerts/lifecycle';
import { alertRulesSchema, defaultAlertRules, type AlertRule, type AlertRules } from '../alerts/rules';
import type { AlertRecord } from '../domain/alerts';
import type { PortalRecord } from '../domain/records';
import type { Services } from '../domain/ports';
import { renewalFacts } from '../api/renewals';
import { portalFacts, portalLicenseFacts } from './facts';
import { notifyChannels } from './deliveries';

/**
 * Evaluates the alert rules on the ledger's facts and stores what changes: a new condition raises an alert
 * (notified), one that still holds updates its figures (not notified), one that cleared resolves it (notified).
 * After a portal's run the whole portal is evaluated; after a failed run only its run history (the ledger still
 * holds the last good read, which that run did not replace); once a day the rules that depend on the date.
 */

const PORTAL_RULES: ReadonlySet<AlertRule> = new Set(['runFailures', 'credentialExpiry', 'stale']);

/** Alerts are kept this long after they resolve. */
export const ALERT_RETENTION_MONTHS = 13;

/** The stored rules document, or the defaults before the first PUT (or when the stored one is unreadable). */
export async function loadRules(services: Services): Promise<AlertRules> {
  const stored = await services.ledger.alerts.getRules();
  if (stored === undefined) return defaultAlertRules();
  const parsed = alertRulesSchema.safeParse(stored);
  if (parsed.success) return parsed.data;
  services.logger.warn('the stored alert rules are not valid; the defaults apply until they are saved again');
  return defaultAlertRules();
}

export interface EvaluationSummary {
  raised: number;
  updated: number;
  resolved: number;
}

/** Applies the changes between the open alerts (those `inScope`) and the conditions that hold. */
async function applyConditions(
  services: Services,
  holding: Condition[],
  inScope: (alert: OpenAlert) => boolean,
): Promise<EvaluationSummary> {
  const open = await services.ledger.alerts.listOpen();
  const changes = alertChanges(open, holding, inScope);
  const now = services.now().toISOString();
  const events: { event: 'alert.raised' | 'alert.resolved'; alert: AlertRecord }[] = [];
  for (const condition of changes.raise) {
    const alert: AlertRecord = {
      id: randomUUID(),
      state: 'open',
      raisedAt: now,
      updatedAt: now,
      ...conditionFields(condition),
    };
    // Another evaluation raised it first: that one notifies.
    if (await services.ledger.alerts.open(alert)) events.push({ event: 'alert.raised', alert });
  }
  for (const { alert, condition } of changes.update)
    await services.ledger.alerts.update({ ...alert, ...conditionFields(condition), updatedAt: now });
  for (const alert of changes.resolve)
    events.push({ event: 'alert.resolved', alert: await services.ledger.alerts.resolve(alert, now) });
  await notifyChannels(services, events);
  return {
    raised: events.filter((e) => e.event === 'alert.raised').length,
    updated: changes.update.length,
    resolved: changes.resolve.length,
  };
}

function conditionFields(condition: Condition) {
  return {
    rule: condition.rule,
    subject: condition.subject,
    portalId: condition.portalId,
    ...(condition.licenseId ? { licenseId: condition.licenseId } : {}),
    severity: condition.severity,
    message: condition.message,
    details: condition.details,
  };
}

/** The renewals the rightSize rule looks at: those within its days, of one portal or of all. */
function rightSizeWindow(rules: AlertRules, portalId?: string) {
  return { withinDays: rules.rightSize.days, ...(portalId ? { portalId } : {}) };
}

/**
 * What a run read: `full` and `delta` runs succeeded (their licenses are what they wrote; a delta run touched only
 * the changed users, so the assignment errors, counted over every consumer, wait for the next full read);
 * `failed` runs only feed the portal's rules (run failures, credential expiry).
 */
export type RunRead = 'full' | 'delta' | 'failed';

/** After a run of a portal, on the data that run wrote. */
export async function evaluateAfterRun(
  services: Services,
  portalId: string,
  read: RunRead,
  loaded?: AlertRules,
): Promise<EvaluationSummary | undefined> {
  const portal = await services.ledger.portals.get(portalId);
  if (!portal) return undefined;
  const rules = loaded ?? (await loadRules(services));
  const succeeded = read !== 'failed';
  const facts: Facts = {
    licenses: succeeded ? await portalLicenseFacts(services, portalId, { assignmentErrors: read === 'full' }) : [],
    // After a success there are no failures since the last success: the run history need not be read.
    portals: [await portalFacts(services, portal, { justSucceeded: succeeded })],
    renewals:
      succeeded && rules.rightSize.enabled ? await renewalFacts(services, rightSizeWindow(rules, portalId)) : [],
  };
  const skipped = (rule: AlertRule) =>
    (!succeeded && !PORTAL_RULES.has(rule)) || (read === 'delta' && rule === 'assignmentErrors');
  const holding = evaluate(rules, facts, services.now()).filter((condition) => !skipped(condition.rule));
  return applyConditions(services, holding, (alert) => alert.portalId === portalId && !skipped(alert.rule));
}

/** The same, for the queue worker and the poison handler: an evaluation that fails never fails the run. */
export async function evaluateAfterRunSafely(services: Services, portalId: string, read: RunRead): Promise<void> {
  try {
    await evaluateAfterRun(services, portalId, read);
  } catch (error) {
    warnEvaluationFailed(services, portalId, error);
  }
}

/** The rules document's digest: a portal keeps the one its alerts were last evaluated under (see below). */
export function rulesDigest(rules: AlertRules): string {
  return createHash('sha256').update(JSON.stringify(rules)).digest('base64url').slice(0, 22);
}

/**
 * After a successful run. What an alert after a run looks at (the portal's licenses, its holders' assignment
 * errors and activity, its run history, the rules) is unchanged when this run wrote nothing, the one before it
 * succeeded (less than the stale rule's hours ago, so no stale alert waits for this success), and a full read's
 * evaluation since the last change was made under the same rules (the portal's `alertsDigest`, which a run that
 * writes clears): then the evaluation is skipped, and an unchanged hourly run costs one read of the rules instead
 * of five. Date-based rules are the daily pass's either way.
 */
export async function evaluateAfterSuccessSafely(
  services: Services,
  before: PortalRecord,
  read: 'full' | 'delta',
  changed: boolean,
): Promise<void> {
  try {
    const rules = await loadRules(services);
    const digest = rulesDigest(rules);
    // A portal whose last success is older than the stale rule's hours may have a stale alert to resolve.
    const mayBeStale =
      rules.stale.enabled &&
      (!before.lastSuccessAt ||
        services.now().getTime() - Date.parse(before.lastSuccessAt) > rules.stale.hours * 3_600_000);
    const unchanged =
      !changed && before.lastRun?.status === 'succeeded' && before.alertsDigest === digest && !mayBeStale;
    if (unchanged) return;
    await evaluateAfterRun(services, before.id, read, rules);
    // A delta run leaves the assignment errors to the next full read: only a full read's evaluation is complete.
    if (read === 'full')
      await services.ledger.portals.modify(before.id, (current) => ({ ...current, alertsDigest: digest }));
  } catch (error) {
    warnEvaluationFailed(services, before.id, error);
  }
}

function warnEvaluationFailed(services: Services, portalId: string, error: unknown): void {
  services.logger.warn('alert evaluation after the run failed; the next run or the daily pass tries again', {
    portalId,
    error: (error as Error).name,
    errorCode: (error as { code?: unknown }).code,
  });
}

/** The daily pass: the rules that depend on the date, on every portal; and resolved alerts past retention go. */
export async function evaluateDaily(services: Services): Promise<EvaluationSummary & { purged: number }> {
  const rules = await loadRules(services);
  const portals = await services.ledger.portals.list();
  const facts: Facts = {
    licenses: [],
    portals: [],
    renewals: rules.rightSize.enabled ? await renewalFacts(services, rightSizeWindow(rules)) : [],
  };
  for (const portal of portals) {
    facts.licenses.push(...(await portalLicenseFacts(services, portal.id)));
    facts.portals.push(await portalFacts(services, portal));
  }
  const now = services.now();
  const holding = evaluate(rules, facts, now).filter((condition) => DATED_RULES.has(condition.rule));
  const summary = await applyConditions(services, holding, (alert) => DATED_RULES.has(alert.rule));
  const cutoff = new Date(now);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - ALERT_RETENTION_MONTHS);
  return { ...summary, purged: await services.ledger.alerts.purgeResolved(cutoff) };
}

/** Resolves the open alerts that `covered` says an exclusion now covers. */
export async function resolveCovered(services: Services, covered: (alert: AlertRecord) => boolean): Promise<number> {
  const open = await services.ledger.alerts.listOpen();
  const now = services.now().toISOString();
  const events: { event: 'alert.resolved'; alert: AlertRecord }[] = [];
  for (const alert of open.filter(covered))
    events.push({ event: 'alert.resolved', alert: await services.ledger.alerts.resolve(alert, now) });
  await notifyChannels(services, events);
  return events.length;
}
