import { randomUUID } from 'node:crypto';
import type { Services } from '../app/services';
import { AppError, isAppError } from '../domain/errors';
import {
  emptyCounts, type LastRun, type PortalRecord, type RunRecord, type RunTrigger,
} from '../domain/records';
import type { TenantPlan, TenantReader, TenantUser } from '../graph/types';
import { DeltaExpiredError } from '../graph/types';
import { newRunId } from '../ledger/keys';
import type { PortalLedgerState } from '../ledger/types';
import type { ChangePlan } from '../reconcile/plan';
import { addressesToLookUp, reconcile, type TenantSnapshot } from '../reconcile/reconcile';
import type { RunMessage } from '../runs/message';
import type { PortalSecret } from '../secrets/types';
import { summarizePlan, type PlanSummary } from './summary';

/** A lease outlives a crashed worker by at most this long; a live run renews it well before. */
export const LEASE_TTL_MS = 5 * 60_000;
/**
 * A full read asks for a delta link only for a tenant this large (by its previous run): below it the full read
 * is a few requests anyway, and reads every assignment state exactly. So a first sync is pages + 1 requests, and
 * a large tenant's second full read gets the link that its later runs read changes from.
 */
export const DELTA_MIN_USERS = 5_000;
/** Graph's delta does not track licenseAssignmentStates, so a full read happens at least this often. */
export const FULL_READ_INTERVAL_MS = 24 * 60 * 60_000;

export interface DeliveryAttempt {
  dequeueCount: number;
  maxDequeueCount: number;
}

export interface SyncPreview {
  runId: string;
  plan: ChangePlan;
  summary: PlanSummary;
}

interface ReadResult {
  snapshot: TenantSnapshot;
  deltaLink?: string;
  fullRead: boolean;
  /** The stored delta link was refused as expired (and no new one was obtained when deltaLink is unset). */
  linkExpired?: boolean;
}

/** Maps anything thrown during a run to an AppError (a stable code, a message a person can act on, no secret). */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const status = (error as { statusCode?: number })?.statusCode;
  const name = (error as { name?: string })?.name;
  if (name === 'RestError' || typeof status === 'number') {
    return new AppError('storage_error', { transient: true, detail: status ? `storage answered ${status}` : undefined, cause: error });
  }
  return new AppError('internal_error', { transient: true, cause: error });
}

function lastRunOf(run: RunRecord): LastRun {
  const { id, trigger, status, queuedAt, startedAt, endedAt, counts, errorCode, errorMessage } = run;
  return { id, trigger, status, queuedAt, startedAt, endedAt, counts, errorCode, errorMessage };
}

/** Writes only the run fields of the portal, re-read just before, so an admin's concurrent change survives. */
async function recordOnPortal(services: Services, portalId: string, patch: Partial<PortalRecord>): Promise<void> {
  const current = await services.ledger.portals.get(portalId);
  if (!current) return;
  await services.ledger.portals.update({ ...current, ...patch });
}

export function newQueuedRun(portalId: string, trigger: RunTrigger, now: Date): RunRecord {
  return {
    id: newRunId(now),
    portalId,
    trigger,
    status: 'queued',
    queuedAt: now.toISOString(),
    counts: emptyCounts(),
    graphRequests: 0,
    throttledRetries: 0,
    conflicts: [],
    attempts: 0,
  };
}

async function loadSecret(services: Services, portal: PortalRecord): Promise<PortalSecret> {
  const secret = await services.secrets.get(portal.id);
  if (!secret) throw new AppError('secret_missing');
  return secret;
}

async function collectUsers(pages: AsyncIterable<TenantUser[]>): Promise<TenantUser[]> {
  const users: TenantUser[] = [];
  for await (const page of pages) for (const user of page) users.push(user);
  return users;
}

/**
 * Reads the tenant: plans, then users by Graph's delta when a fresh delta link exists, else a full read.
 *
 * A full read goes through `/users` (Graph's delta does not carry licenseAssignmentStates reliably). When the
 * portal of a large tenant has no delta link yet (or it just expired), one request for `$deltatoken=latest` is made alongside the
 * plans and before the users, so a change made while the users are read shows up in the next delta round (at
 * worst twice, which the reconciliation takes in its stride). A portal that has a link keeps it through a full
 * read: the next delta round replays the changes since that link, which the full read already saw.
 */
async function readTenant(reader: TenantReader, portal: PortalRecord, now: Date, allowDelta: boolean): Promise<ReadResult> {
  const plansRead = reader.readPlans();
  plansRead.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
  const fullReadDue =
    !portal.lastFullReadAt || now.getTime() - Date.parse(portal.lastFullReadAt) >= FULL_READ_INTERVAL_MS;
  let linkExpired = false;
  if (allowDelta && portal.deltaLink && !fullReadDue) {
    try {
      const users: TenantUser[] = [];
      const removed: string[] = [];
      const rounds = reader.readUserDelta(portal.deltaLink);
      let step = await rounds.next();
      while (!step.done) {
        for (const user of step.value.users) users.push(user);
        for (const id of step.value.removedObjectIds) removed.push(id);
        step = await rounds.next();
      }
      const plans = await plansRead;
      return { snapshot: { mode: 'delta', plans, users, removedObjectIds: removed }, deltaLink: step.value, fullRead: false };
    } catch (error) {
      if (!(error instanceof DeltaExpiredError)) throw error;
      // The link expired (410 / syncStateNotFound): fall back to a full read below.
      linkExpired = true;
    }
  }
  const large = (portal.lastRun?.counts?.usersRead ?? 0) >= DELTA_MIN_USERS;
  const wantLink = allowDelta && reader.latestDeltaLink !== undefined && (linkExpired || (!portal.deltaLink && large));
  const [plans, deltaLink] = await Promise.all([plansRead, wantLink ? reader.latestDeltaLink!() : undefined]);
  const users = await collectUsers(reader.readUsers());
  return { snapshot: { mode: 'full', plans, users }, deltaLink, fullRead: true, linkExpired };
}

interface Computed {
  plan: ChangePlan;
  state: PortalLedgerState;
  read: ReadResult;
}

async function computePlan(services: Services, portal: PortalRecord, reader: TenantReader, now: Date, allowDelta: boolean): Promise<Computed> {
  const [read, names, state] = await Promise.all([
    readTenant(reader, portal, now, allowDelta),
    services.planNames(),
    services.ledger.ledger.loadPortalState(portal.id),
  ]);
  const lookup = addressesToLookUp(read.snapshot, state, portal.id);
  const contactIdsByAddress = lookup.size > 0 ? await services.ledger.ledger.findContactIdsByAddress(lookup) : new Map<string, string>();
  const plan = reconcile({
    portal: { id: portal.id, name: portal.name },
    snapshot: read.snapshot,
    state,
    contactIdsByAddress,
    planNames: names,
    now: now.toISOString(),
    newContactId: randomUUID,
  });
  return { plan, state, read };
}

/**
 * One reconciliation of one portal (the queue worker's use case). Takes the portal's lease so runs of one
 * portal never overlap. A permanent failure marks the run failed and returns; a transient one records the error
 * on the run and throws, so the host delivers the message again (and finally to the poison queue).
 */
export async function runSync(services: Services, message: RunMessage, attempt: DeliveryAttempt): Promise<RunRecord> {
  const { ledger, logger } = services;
  const log = { portalId: message.portalId, runId: message.runId, trigger: message.trigger };
  const startedAt = services.now();
  let run = (await ledger.runs.get(message.portalId, message.runId)) ?? {
    ...newQueuedRun(message.portalId, message.trigger, startedAt),
    id: message.runId,
  };
  if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'skipped') {
    logger.info('run already finished; duplicate delivery ignored', { ...log, status: run.status });
    return run;
  }

  const finish = async (patch: Partial<RunRecord>, portalPatch: Partial<PortalRecord> = {}): Promise<RunRecord> => {
    run = { ...run, ...patch, endedAt: services.now().toISOString() };
    await ledger.runs.update(run);
    await recordOnPortal(services, run.portalId, { lastRun: lastRunOf(run), ...portalPatch });
    return run;
  };

  const portal = await ledger.portals.get(message.portalId);
  if (!portal) {
    const failed = new AppError('portal_not_found');
    logger.warn('run failed', { ...log, errorCode: failed.code });
    run = { ...run, status: 'failed', errorCode: failed.code, errorMessage: failed.message, endedAt: services.now().toISOString() };
    await ledger.runs.update(run).catch(() => undefined);
    return run;
  }
  if (!portal.active) {
    logger.info('run skipped', { ...log, reason: 'deactivated' });
    return finish({ status: 'skipped', skippedReason: 'The portal access is deactivated.' });
  }

  const holder = message.runId;
  if (!(await ledger.leases.acquire(portal.id, holder, LEASE_TTL_MS))) {
    const other = await ledger.leases.holder(portal.id);
    logger.info('run skipped', { ...log, reason: 'overlap', runningRunId: other });
    return finish({ status: 'skipped', skippedReason: `Another run of this portal access was in progress${other ? ` (run ${other})` : ''}.` });
  }
  const renew = setInterval(() => {
    ledger.leases.renew(portal.id, holder, LEASE_TTL_MS).catch((error: unknown) =>
      logger.warn('lease renewal failed', { ...log, error: (error as Error).message }));
  }, LEASE_TTL_MS / 3);
  renew.unref();

  let reader: TenantReader | undefined;
  try {
    run = { ...run, status: 'running', startedAt: startedAt.toISOString(), attempts: attempt.dequeueCount, errorCode: undefined, errorMessage: undefined };
    await ledger.runs.update(run);
    await recordOnPortal(services, portal.id, { lastRun: lastRunOf(run) });
    logger.info('run started', { ...log, attempt: attempt.dequeueCount });

    reader = services.openTenant(portal, await loadSecret(services, portal));
    const { plan, state, read } = await computePlan(services, portal, reader, startedAt, true);
    const applied = await ledger.ledger.applyPlan(plan, state);
    const stats = reader.stats();
    const done = await finish(
      {
        status: 'succeeded',
        counts: plan.counts,
        conflicts: plan.conflicts.slice(0, 100),
        graphRequests: stats.graphRequests,
        throttledRetries: stats.throttledRetries,
        readMode: read.snapshot.mode,
      },
      {
        lastSuccessAt: services.now().toISOString(),
        ...(read.fullRead ? { lastFullReadAt: startedAt.toISOString() } : {}),
        ...(read.deltaLink ? { deltaLink: read.deltaLink } : read.linkExpired ? { deltaLink: undefined } : {}),
      },
    );
    logger.info('run succeeded', { ...log, ...plan.counts, graphRequests: stats.graphRequests, throttledRetries: stats.throttledRetries, entitiesWritten: applied.entitiesWritten, readMode: read.snapshot.mode });
    return done;
  } catch (caught) {
    const error = toAppError(caught);
    const stats = reader?.stats() ?? { graphRequests: 0, throttledRetries: 0 };
    const failure = { errorCode: error.code, errorMessage: error.message, graphRequests: stats.graphRequests, throttledRetries: stats.throttledRetries };
    if (error.transient) {
      // Nothing was removed (the plan is applied only after a complete read); the host retries the message.
      logger.warn('run attempt failed; will retry', { ...log, errorCode: error.code, attempt: attempt.dequeueCount, maxAttempts: attempt.maxDequeueCount });
      run = { ...run, ...failure };
      await ledger.runs.update(run).catch(() => undefined);
      await recordOnPortal(services, portal.id, { lastRun: lastRunOf(run) }).catch(() => undefined);
      throw error;
    }
    logger.error('run failed', { ...log, errorCode: error.code });
    return finish({ status: 'failed', ...failure });
  } finally {
    clearInterval(renew);
    await ledger.leases.release(portal.id, holder).catch(() => undefined);
  }
}

/** The dry run: the same read and reconciliation, without the apply. Records a `dryRun` run; writes no ledger data. */
export async function previewSync(services: Services, portalId: string): Promise<SyncPreview> {
  const portal = await services.ledger.portals.get(portalId);
  if (!portal) throw new AppError('portal_not_found');
  const now = services.now();
  let run: RunRecord = { ...newQueuedRun(portalId, 'dryRun', now), status: 'running', startedAt: now.toISOString() };
  await services.ledger.runs.create(run);
  let reader: TenantReader | undefined;
  try {
    reader = services.openTenant(portal, await loadSecret(services, portal));
    // A preview always reads in full: it must not consume the portal's delta link.
    const { plan } = await computePlan(services, portal, reader, now, false);
    const stats = reader.stats();
    run = { ...run, status: 'succeeded', counts: plan.counts, conflicts: plan.conflicts.slice(0, 100), readMode: 'full', ...stats, endedAt: services.now().toISOString() };
    await services.ledger.runs.update(run);
    return { runId: run.id, plan, summary: summarizePlan(plan) };
  } catch (caught) {
    const error = toAppError(caught);
    const stats = reader?.stats() ?? { graphRequests: 0, throttledRetries: 0 };
    await services.ledger.runs
      .update({ ...run, status: 'failed', errorCode: error.code, errorMessage: error.message, ...stats, endedAt: services.now().toISOString() })
      .catch(() => undefined);
    throw error;
  }
}

/** Signs in and reads the plans now: proves the credentials and consent work. */
export async function verifyPortal(services: Services, portalId: string): Promise<{ plans: TenantPlan[] }> {
  const portal = await services.ledger.portals.get(portalId);
  if (!portal) throw new AppError('portal_not_found');
  try {
    const reader = services.openTenant(portal, await loadSecret(services, portal));
    return { plans: await reader.readPlans() };
  } catch (caught) {
    throw toAppError(caught);
  }
}
