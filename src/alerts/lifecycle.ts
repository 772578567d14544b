import type { Condition } from './evaluate';
import type { AlertRule } from './rules';

/**
 * An alert's life: raised once when its condition starts to hold, updated (without a new notification) while it
 * holds, resolved when it clears, and raised anew if it comes back after that.
 */

export interface OpenAlert {
  id: string;
  rule: AlertRule;
  subject: string;
  portalId: string;
  licenseId?: string;
  message: string;
  details: Condition['details'];
}

export interface AlertChanges<A extends OpenAlert> {
  /** New alerts: notify "alert.raised". */
  raise: Condition[];
  /** Still holding with other figures: store, do not notify. */
  update: { alert: A; condition: Condition }[];
  /** Cleared: notify "alert.resolved". */
  resolve: A[];
}

function keyOf(item: { rule: AlertRule; subject: string }): string {
  return `${item.rule}|${item.subject}`;
}

function sameFigures(alert: OpenAlert, condition: Condition): boolean {
  if (alert.message !== condition.message) return false;
  const a = Object.entries(alert.details).sort(([x], [y]) => x.localeCompare(y));
  const b = Object.entries(condition.details).sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What changes, given the open alerts and the conditions that hold now. Only open alerts `inScope` can be
 * resolved: a run of one portal, or the daily pass of the date rules, says nothing of the other alerts.
 */
export function alertChanges<A extends OpenAlert>(
  open: A[],
  holding: Condition[],
  inScope: (alert: A) => boolean,
): AlertChanges<A> {
  const openByKey = new Map(open.map((alert) => [keyOf(alert), alert]));
  const holdingKeys = new Set<string>();
  const changes: AlertChanges<A> = { raise: [], update: [], resolve: [] };
  for (const condition of holding) {
    const key = keyOf(condition);
    if (holdingKeys.has(key)) continue;
    holdingKeys.add(key);
    const alert = openByKey.get(key);
    if (!alert) changes.raise.push(condition);
    else if (!sameFigures(alert, condition)) changes.update.push({ alert, condition });
  }
  for (const alert of open) {
    if (!holdingKeys.has(keyOf(alert)) && inScope(alert)) changes.resolve.push(alert);
  }
  return changes;
}

/** Scopes of an evaluation. */
export const scopes = {
  /** After a run of one portal: every rule, that portal's alerts. */
  portal:
    (portalId: string) =>
    (alert: OpenAlert): boolean =>
      alert.portalId === portalId,
  /** The daily pass: the rules that depend on the date, every portal. */
  dated: (alert: OpenAlert): boolean => DATED_RULES.has(alert.rule),
  everything: (): boolean => true,
};

export const DATED_RULES: ReadonlySet<AlertRule> = new Set(['expiring', 'credentialExpiry', 'rightSize', 'stale']);
