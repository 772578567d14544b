import { isExcluded, type AlertRules } from '../alerts/rules';
import type { AlertRecord } from '../domain/alerts';
import type { Services } from '../domain/ports';
import { parseLicenseId } from '../domain/records';
import { loadRules, resolveCovered } from './evaluateAlerts';
import { unavailableRules } from './facts';

/** The rules document: read (with the rules whose data is missing), and replaced whole. */

export async function getRules(services: Services): Promise<AlertRules & { unavailable: Record<string, string> }> {
  return { ...(await loadRules(services)), unavailable: unavailableRules() };
}

function subjectOf(alert: AlertRecord) {
  const skuId =
    typeof alert.details.skuId === 'string'
      ? alert.details.skuId
      : alert.licenseId
        ? parseLicenseId(alert.licenseId)?.skuId
        : undefined;
  return { portalId: alert.portalId, licenseId: alert.licenseId, skuId };
}

/** Stores the document (already parsed: left-out rules hold their defaults) and resolves what it now excludes. */
export async function putRules(
  services: Services,
  rules: AlertRules,
): Promise<AlertRules & { unavailable: Record<string, string> }> {
  await services.ledger.alerts.putRules(rules);
  const resolved = await resolveCovered(services, (alert) => isExcluded(rules, subjectOf(alert)));
  if (resolved > 0) services.logger.info('alerts resolved by new exclusions', { resolved });
  return { ...rules, unavailable: unavailableRules() };
}
