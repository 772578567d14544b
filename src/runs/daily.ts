import type { Services } from '../domain/ports';
import { oldestKeptDay } from '../insights/history';
import { evaluateDaily, type EvaluationSummary } from '../notify/evaluateAlerts';

/**
 * The timer's daily work (function `alertsDaily`): the alert rules that depend on the date (expiring
 * subscriptions, credential expiry, stale portals), resolved alerts past their 13 months, and every portal's
 * snapshots past their 25 months. A run also drops its portal's old snapshots, but a portal that no longer syncs
 * (inactive, or failing) runs no more: this pass keeps its history from outgrowing the retention.
 */
export interface DailySummary extends EvaluationSummary {
  /** Resolved alerts deleted. */
  purged: number;
  /** Snapshots deleted. */
  snapshotsRemoved: number;
}

export async function dailyWork(services: Services): Promise<DailySummary> {
  const alerts = await evaluateDaily(services);
  const oldest = oldestKeptDay(services.now());
  let snapshotsRemoved = 0;
  for (const portal of await services.ledger.portals.list())
    snapshotsRemoved += await services.ledger.history.deleteBefore(portal.id, oldest);
  return { ...alerts, snapshotsRemoved };
}
