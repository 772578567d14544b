import { AppError, toAppError } from '../domain/errors';
import type { ChangePlan } from '../domain/plan';
import type { Services } from '../domain/ports';
import type { RunRecord } from '../domain/records';
import { newQueuedRun } from '../domain/runs';
import type { TenantReader } from '../domain/tenant';
import { mapConcurrent } from '../util/async';
import { MAX_CONFLICTS_KEPT, reconcilePortal } from './reconcilePortal';
import { summarizePlan, type PlanSummary } from './summary';
import { openTenant } from './tenantRead';

/** A dry run names the account of at most this many of the links it would remove. */
const MAX_REMOVALS_NAMED = 500;

export interface SyncPreview {
  runId: string;
  /** The plan without the sync's own bookkeeping (its user links). */
  plan: Omit<ChangePlan, 'userLinks'>;
  /** The plan lists only the first PREVIEW_MAX_ITEMS changes of each kind; its counts cover all of them. */
  truncated?: boolean;
  summary: PlanSummary;
}

/** The dry run: the same read and reconciliation, without the apply. Records a `dryRun` run; writes no ledger data. */
export async function previewSync(services: Services, portalId: string): Promise<SyncPreview> {
  const portal = await services.ledger.portals.get(portalId);
  if (!portal) throw new AppError('portal_not_found');
  if (portal.deletingAt) throw new AppError('portal_deleting');
  const now = services.now();
  let run: RunRecord = { ...newQueuedRun(portalId, 'dryRun', now), status: 'running', startedAt: now.toISOString() };
  await services.ledger.runs.create(run);
  let reader: TenantReader | undefined;
  try {
    reader = await openTenant(services, portal);
    // A preview always reads in full: it must not consume the portal's delta link.
    const outcome = await reconcilePortal(services, portal, reader, now, { allowDelta: false, apply: false });
    const plan = outcome.plan as ChangePlan;
    const stats = reader.stats();
    run = {
      ...run,
      status: 'succeeded',
      counts: plan.counts,
      conflicts: plan.conflicts.slice(0, MAX_CONFLICTS_KEPT),
      readMode: 'full',
      ...stats,
      endedAt: services.now().toISOString(),
    };
    await services.ledger.runs.update(run);
    // The run keeps only a digest of each consumer: the accounts of the links it would remove are read back.
    await mapConcurrent(plan.consumers.remove.slice(0, MAX_REMOVALS_NAMED), 16, async (removal) => {
      const stored = await services.ledger.licenses.getConsumer(removal.licenseId, removal.contactId);
      if (stored?.assignment) removal.userPrincipalName = stored.assignment.userPrincipalName;
    });
    const { userLinks: _bookkeeping, ...shown } = plan;
    return {
      runId: run.id,
      plan: shown,
      summary: summarizePlan(plan),
      ...(outcome.truncated ? { truncated: true } : {}),
    };
  } catch (caught) {
    const error = toAppError(caught);
    const stats = reader?.stats() ?? { graphRequests: 0, throttledRetries: 0 };
    await services.ledger.runs
      .update({
        ...run,
        status: 'failed',
        errorCode: error.code,
        errorMessage: error.message,
        ...stats,
        endedAt: services.now().toISOString(),
      })
      .catch(() => undefined);
    throw error;
  }
}
