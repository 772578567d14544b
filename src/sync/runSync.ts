import type { PlanNames, Services } from '../app/services';
import { AppError, isAppError } from '../domain/errors';
import {
  emptyCounts,
  PORTAL_READ_STATE_FIELDS,
  sameTenantSource,
  type Conflict,
  type LastRun,
  type PortalRecord,
  type RunCounts,
  type RunRecord,
  type RunTrigger,
} from '../domain/records';
import type { TenantPlan, TenantReader, TenantUser } from '../graph/types';
import { DeltaExpiredError } from '../graph/types';
import { contactIdsByPartition, newRunId } from '../ledger/keys';
import { isStatus, mapConcurrent, MAX_BATCH } from '../ledger/tables';
import type { ApplyCarry, PortalLedgerState } from '../ledger/types';
import { appendPlan, emptyPlan, type ChangePlan } from '../reconcile/plan';
import { Reconciliation } from '../reconcile/reconcile';
import type { RunMessage } from '../runs/message';
import type { PortalCredential } from '../secrets/types';
import { LARGE_TENANT_USERS, largeReadSlots } from './memoryBudget';
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
  /** The plan without the sync's own bookkeeping (its user links). */
  plan: Omit<ChangePlan, 'userLinks'>;
  /** The plan lists only the first PREVIEW_MAX_ITEMS changes of each kind; its counts cover all of them. */
  truncated?: boolean;
  summary: PlanSummary;
}

/** What one reconciliation of a portal did (or, in a dry run, would do). */
interface Outcome {
  counts: RunCounts;
  /** The first MAX_CONFLICTS_KEPT conflicts. */
  conflicts: Conflict[];
  readMode: 'full' | 'delta';
  /** A new delta link to keep. */
  deltaLink?: string;
  /** The stored delta link was refused as expired (and no new one was obtained when deltaLink is unset). */
  linkExpired?: boolean;
  /** The whole plan: only when not applied (a dry run); at most PREVIEW_MAX_ITEMS of each kind of change. */
  plan?: ChangePlan;
  /** The dry run's plan lists only the first PREVIEW_MAX_ITEMS changes of a kind (the counts are all). */
  truncated?: boolean;
  entitiesWritten: number;
}

/**
 * A dry run returns at most this many changes of each kind (the counts cover all): a preview of a large tenant's
 * first sync must not hold (or send) 150,000 links.
 */
export const PREVIEW_MAX_ITEMS = 1_000;
/** A dry run names the account of at most this many of the links it would remove. */
const MAX_REMOVALS_NAMED = 500;
/** Conflicts a run record keeps (the count says how many there were). */
const MAX_CONFLICTS_KEPT = 100;
/**
 * A full run reconciles and writes this many users at a time: the run holds at most this many users and their
 * changes (plus the compact ledger state). New contacts still go 100 to a transaction (their ids share
 * partitions, see contactIdsByPartition), and their ~25,000 addresses about 100 per index partition.
 */
export const APPLY_BATCH_USERS = 10_000;
/** Graph pages read ahead while a part is written. */
const READ_AHEAD_PAGES = 2;
/** Above this many addresses to look up, the run reads the whole address index once instead of point reads. */
const ADDRESS_SCAN_THRESHOLD = 5_000;

/** Maps anything thrown during a run to an AppError (a stable code, a message a person can act on, no secret). */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const status = (error as { statusCode?: number })?.statusCode;
  const name = (error as { name?: string })?.name;
  if (name === 'RestError' || typeof status === 'number') {
    return new AppError('storage_error', {
      transient: true,
      detail: status ? `storage answered ${status}` : undefined,
      cause: error,
    });
  }
  return new AppError('internal_error', { transient: true, cause: error });
}

function lastRunOf(run: RunRecord): LastRun {
  const { id, trigger, status, queuedAt, startedAt, endedAt, counts, errorCode, errorMessage } = run;
  return { id, trigger, status, queuedAt, startedAt, endedAt, counts, errorCode, errorMessage };
}

/**
 * Writes the sync's own fields that `patch` names (lastRun, lastSuccessAt, ...; one given as undefined is removed)
 * onto the record as stored at the write, ETag-guarded (see PortalRepository.modify): an admin's change made
 * meanwhile survives, and nothing else of the record is written back. Nothing when the portal is gone.
 */
/**
 * Writes the run's fields onto the freshest portal record. When an admin pointed the portal at another tenant,
 * app or cloud while the run read the old one (`readFrom`), the run's read state (delta link...) is not kept.
 */
async function recordOnPortal(
  services: Services,
  portalId: string,
  patch: Partial<PortalRecord>,
  readFrom?: PortalRecord,
): Promise<void> {
  await services.ledger.portals.modify(portalId, (current) => {
    const next: PortalRecord = { ...current, ...patch, id: current.id };
    if (readFrom && !sameTenantSource(readFrom, current)) {
      for (const field of PORTAL_READ_STATE_FIELDS) (next as Record<string, unknown>)[field] = current[field];
    }
    return next;
  });
}

/** A queued run at `now`; `id` is given when the run's message already named it (a scheduled run). */
export function newQueuedRun(portalId: string, trigger: RunTrigger, now: Date, id: string = newRunId(now)): RunRecord {
  return {
    id,
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

async function loadSecret(services: Services, portal: PortalRecord): Promise<PortalCredential> {
  // A federated portal has no secret: the managed identity signs it in.
  if (portal.authKind === 'federated') return { kind: 'federated' };
  const secret = await services.secrets.get(portal.id);
  if (!secret) throw new AppError('secret_missing');
  return secret;
}

/** Yields the pages of `source`, reading up to `depth` pages ahead of the consumer. */
async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  const fill = (): void => {
    while (queue.length < depth) {
      const next = iterator.next();
      next.catch(() => undefined); // awaited in turn below; this only keeps a failure from going unhandled meanwhile
      queue.push(next);
    }
  };
  try {
    for (;;) {
      fill();
      const step = await (queue.shift() as Promise<IteratorResult<T>>);
      if (step.done) return;
      yield step.value;
    }
  } finally {
    await iterator.return?.();
  }
}

interface DeltaRead {
  users: TenantUser[];
  removedObjectIds: string[];
  deltaLink: string;
}

async function readDelta(reader: TenantReader, deltaLink: string): Promise<DeltaRead> {
  const users: TenantUser[] = [];
  const removedObjectIds: string[] = [];
  const rounds = reader.readUserDelta(deltaLink);
  let step = await rounds.next();
  while (!step.done) {
    for (const user of step.value.users) users.push(user);
    for (const id of step.value.removedObjectIds) removedObjectIds.push(id);
    step = await rounds.next();
  }
  return { users, removedObjectIds, deltaLink: step.value };
}

interface ReconcileOptions {
  /** May read by Graph's delta (a dry run must not consume the portal's delta link). */
  allowDelta: boolean;
  /** Write the changes (else return the plan: a dry run). */
  apply: boolean;
}

/**
 * Reads the tenant and reconciles the ledger with it: by Graph's delta when a fresh delta link exists (and the
 * ledger has the sync's user links to read just the changed users from), else a full read.
 *
 * A full read goes through `/users` (Graph's delta does not carry licenseAssignmentStates reliably). When the
 * portal of a large tenant has no delta link yet (or it just expired), one request for `$deltatoken=latest` is
 * made alongside the plans and before the users, so a change made while the users are read shows up in the next
 * delta round (at worst twice, which the reconciliation takes in its stride). A portal that has a link keeps it
 * through a full read: the next delta round replays the changes since that link, which the full read already saw.
 *
 * A full read is reconciled and written APPLY_BATCH_USERS users at a time; removals and license counts wait for
 * the end of the read, so a read that fails midway removes nothing.
 */
async function reconcilePortal(
  services: Services,
  portal: PortalRecord,
  reader: TenantReader,
  now: Date,
  options: ReconcileOptions,
): Promise<Outcome> {
  const { ledger } = services.ledger;
  const plansRead = reader.readPlans();
  plansRead.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
  const namesRead = services.planNames();
  namesRead.catch(() => undefined);
  const fullReadDue =
    !portal.lastFullReadAt || now.getTime() - Date.parse(portal.lastFullReadAt) >= FULL_READ_INTERVAL_MS;
  const newContactId = contactIdsByPartition(MAX_BATCH);
  const setupOf = (
    plans: TenantPlan[],
    names: PlanNames,
    state: PortalLedgerState,
    mode: 'full' | 'delta',
    removedObjectIds?: string[],
  ) =>
    new Reconciliation({
      portal: { id: portal.id, name: portal.name },
      plans,
      mode,
      removedObjectIds,
      state,
      planNames: names,
      now: now.toISOString(),
      newContactId,
    });

  let linkExpired = false;
  if (options.allowDelta && portal.deltaLink && portal.userLinksAt && !fullReadDue) {
    let delta: DeltaRead | undefined;
    try {
      delta = await readDelta(reader, portal.deltaLink);
    } catch (error) {
      if (!(error instanceof DeltaExpiredError)) throw error;
      // The link expired (410 / syncStateNotFound): fall back to a full read below.
      linkExpired = true;
    }
    if (delta) {
      const mentioned = [...delta.users.map((user) => user.objectId), ...delta.removedObjectIds];
      const [plans, names, state] = await Promise.all([
        plansRead,
        namesRead,
        ledger.loadUsersState(portal.id, mentioned),
      ]);
      const reconciliation = setupOf(plans, names, state, 'delta', delta.removedObjectIds);
      const lookup = reconciliation.addressesToLookUp(delta.users);
      const found = lookup.size > 0 ? await ledger.findContactIdsByAddress(lookup) : new Map<string, string>();
      const plan = reconciliation.addUsers(delta.users, found);
      appendPlan(plan, reconciliation.finish());
      plan.counts = reconciliation.currentCounts();
      const applied = options.apply ? await ledger.applyPlan(plan, state) : undefined;
      return {
        counts: plan.counts,
        conflicts: plan.conflicts.slice(0, MAX_CONFLICTS_KEPT),
        readMode: 'delta',
        deltaLink: delta.deltaLink,
        plan: options.apply ? undefined : plan,
        entitiesWritten: applied?.entitiesWritten ?? 0,
      };
    }
  }

  const usersLastRun = portal.lastRun?.counts?.usersRead ?? 0;
  const large = usersLastRun >= DELTA_MIN_USERS;
  const wantLink =
    options.allowDelta && reader.latestDeltaLink !== undefined && (linkExpired || (!portal.deltaLink && large));
  const [plans, deltaLink] = await Promise.all([plansRead, wantLink ? reader.latestDeltaLink!() : undefined]);
  // A large tenant's full read waits for one of the process's large-read slots (see memoryBudget.ts). Its size
  // is known from its last run, or (a first sync) from the licenses its plans say are in use.
  const assignments = plans.reduce((sum, plan) => sum + plan.consumedUnits, 0);
  const release =
    usersLastRun >= LARGE_TENANT_USERS || assignments >= LARGE_TENANT_USERS
      ? await largeReadSlots().acquire()
      : () => undefined;
  try {
    const stateRead = ledger.loadPortalState(portal.id);
    stateRead.catch(() => undefined);
    const pages = readAhead(reader.readUsers(), READ_AHEAD_PAGES);
    const [state, names] = await Promise.all([stateRead, namesRead]);
    const reconciliation = setupOf(plans, names, state, 'full');
    const preview = options.apply ? undefined : emptyPlan(portal.id, reconciliation.currentCounts());
    const conflicts: Conflict[] = [];
    let truncated = false;
    const carry: ApplyCarry = { mergedInto: new Map() };
    let entitiesWritten = 0;
    const write = async (part: ChangePlan): Promise<void> => {
      for (const conflict of part.conflicts) if (conflicts.length < MAX_CONFLICTS_KEPT) conflicts.push(conflict);
      if (preview) truncated = appendPlan(preview, part, PREVIEW_MAX_ITEMS) || truncated;
      else entitiesWritten += (await ledger.applyPlan(part, state, carry)).entitiesWritten;
    };

    // Licenses of new plans first (their counts come at the end), so no consumer names a missing license.
    const newLicenses = options.apply ? reconciliation.newLicenses() : [];
    if (newLicenses.length > 0) {
      const part = emptyPlan(portal.id, reconciliation.currentCounts());
      part.licenses.create = newLicenses;
      await write(part);
    }
    let addressIndex: Map<string, string> | undefined;
    let buffer: TenantUser[] = [];
    const flush = async (): Promise<void> => {
      if (buffer.length === 0) return;
      const users = buffer;
      buffer = [];
      const lookup = reconciliation.addressesToLookUp(users);
      // Many addresses (a first sync of a large tenant): one read of the whole index serves the rest of the run;
      // what this run creates meanwhile the reconciliation remembers itself.
      if (!addressIndex && lookup.size > ADDRESS_SCAN_THRESHOLD) addressIndex = await ledger.loadAddressIndex();
      const found =
        addressIndex ?? (lookup.size > 0 ? await ledger.findContactIdsByAddress(lookup) : new Map<string, string>());
      await write(reconciliation.addUsers(users, found));
    };
    for await (const page of pages) {
      for (const user of page) buffer.push(user);
      if (buffer.length >= APPLY_BATCH_USERS) await flush();
    }
    await flush();

    const last = reconciliation.finish();
    if (!preview) {
      // The new licenses exist already: their final values (with counts) replace them.
      const created = new Set(newLicenses.map((license) => license.skuId));
      last.licenses.update = [
        ...last.licenses.create.filter((license) => created.has(license.skuId)),
        ...last.licenses.update,
      ];
      last.licenses.create = last.licenses.create.filter((license) => !created.has(license.skuId));
    }
    await write(last);
    if (preview) preview.counts = reconciliation.currentCounts();
    return {
      counts: reconciliation.currentCounts(),
      conflicts,
      readMode: 'full',
      deltaLink,
      linkExpired,
      plan: preview,
      entitiesWritten,
      ...(truncated ? { truncated } : {}),
    };
  } finally {
    release();
  }
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
  const stored = await ledger.runs.get(message.portalId, message.runId);
  // A scheduled run has no record until here (the timer writes none): it is made from the message.
  const queuedAt = message.queuedAt ? new Date(message.queuedAt) : startedAt;
  let run = stored ?? newQueuedRun(message.portalId, message.trigger, queuedAt, message.runId);
  if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'skipped') {
    logger.info('run already finished; duplicate delivery ignored', { ...log, status: run.status });
    return run;
  }
  let recorded = stored !== undefined;
  /** Writes the run: creates its record on the first write when the message came without one. */
  const save = async (): Promise<void> => {
    if (recorded) return ledger.runs.update(run);
    try {
      await ledger.runs.create(run);
    } catch (error) {
      // Another delivery of this message created it meanwhile.
      if (!isStatus(error, 409)) throw error;
      await ledger.runs.update(run);
    }
    recorded = true;
  };

  const finish = async (
    patch: Partial<RunRecord>,
    portalPatch: Partial<PortalRecord> = {},
    readFrom?: PortalRecord,
  ): Promise<RunRecord> => {
    run = { ...run, ...patch, endedAt: services.now().toISOString() };
    await save();
    await recordOnPortal(services, run.portalId, { lastRun: lastRunOf(run), ...portalPatch }, readFrom);
    return run;
  };
  /**
   * A skip that leaves the portal's last run alone: it names the run that holds the portal (or the one that
   * already synced it), which the next scheduled fan-out decides on.
   */
  const skip = async (skippedReason: string): Promise<RunRecord> => {
    run = { ...run, status: 'skipped', skippedReason, endedAt: services.now().toISOString() };
    await save();
    return run;
  };

  const portal = await ledger.portals.get(message.portalId);
  if (!portal) {
    const failed = new AppError('portal_not_found');
    logger.warn('run failed', { ...log, errorCode: failed.code });
    run = {
      ...run,
      status: 'failed',
      errorCode: failed.code,
      errorMessage: failed.message,
      endedAt: services.now().toISOString(),
    };
    await ledger.runs.update(run).catch(() => undefined);
    return run;
  }
  if (!portal.active) {
    logger.info('run skipped', { ...log, reason: 'deactivated' });
    return finish({ status: 'skipped', skippedReason: 'The portal access is deactivated.' });
  }
  // A backlog of scheduled messages of one portal syncs it once: a run that started after this one was queued
  // and has finished already read everything this one would.
  const last = portal.lastRun;
  if (
    message.trigger === 'schedule' &&
    message.queuedAt &&
    last &&
    last.id !== run.id &&
    last.startedAt &&
    (last.status === 'succeeded' || last.status === 'failed') &&
    Date.parse(last.startedAt) >= Date.parse(message.queuedAt)
  ) {
    logger.info('run skipped', { ...log, reason: 'synced since queued', syncedByRunId: last.id });
    return skip('A run that started after this one was queued has already synced this portal access.');
  }

  const holder = message.runId;
  if (!(await ledger.leases.acquire(portal.id, holder, LEASE_TTL_MS))) {
    const other = await ledger.leases.holder(portal.id);
    logger.info('run skipped', { ...log, reason: 'overlap', runningRunId: other });
    // The portal's last run stays the one in progress (the next fan-out must see the portal busy).
    return skip(`Another run of this portal access was in progress${other ? ` (run ${other})` : ''}.`);
  }
  // The run is recorded as running before it reads anything (a scheduled run's record is made by this first
  // write); should that fail, the lease goes too and the host retries.
  run = {
    ...run,
    status: 'running',
    startedAt: startedAt.toISOString(),
    attempts: attempt.dequeueCount,
    errorCode: undefined,
    errorMessage: undefined,
  };
  try {
    await save();
  } catch (error) {
    await ledger.leases.release(portal.id, holder).catch(() => undefined);
    throw toAppError(error);
  }
  const renew = setInterval(() => {
    ledger.leases
      .renew(portal.id, holder, LEASE_TTL_MS)
      .catch((error: unknown) => logger.warn('lease renewal failed', { ...log, error: (error as Error).message }));
  }, LEASE_TTL_MS / 3);
  renew.unref();

  let reader: TenantReader | undefined;
  try {
    await recordOnPortal(services, portal.id, { lastRun: lastRunOf(run) });
    logger.info('run started', { ...log, attempt: attempt.dequeueCount });

    reader = services.openTenant(portal, await loadSecret(services, portal));
    const outcome = await reconcilePortal(services, portal, reader, startedAt, { allowDelta: true, apply: true });
    const stats = reader.stats();
    const fullRead = outcome.readMode === 'full';
    const done = await finish(
      {
        status: 'succeeded',
        counts: outcome.counts,
        conflicts: outcome.conflicts,
        graphRequests: stats.graphRequests,
        throttledRetries: stats.throttledRetries,
        readMode: outcome.readMode,
      },
      {
        lastSuccessAt: services.now().toISOString(),
        // A full read wrote every user link: from now on a delta round can read just the changed users' state.
        ...(fullRead
          ? { lastFullReadAt: startedAt.toISOString(), userLinksAt: portal.userLinksAt ?? startedAt.toISOString() }
          : {}),
        ...(outcome.deltaLink ? { deltaLink: outcome.deltaLink } : outcome.linkExpired ? { deltaLink: undefined } : {}),
      },
      portal,
    );
    logger.info('run succeeded', {
      ...log,
      ...outcome.counts,
      graphRequests: stats.graphRequests,
      throttledRetries: stats.throttledRetries,
      entitiesWritten: outcome.entitiesWritten,
      readMode: outcome.readMode,
    });
    return done;
  } catch (caught) {
    const error = toAppError(caught);
    const stats = reader?.stats() ?? { graphRequests: 0, throttledRetries: 0 };
    const failure = {
      errorCode: error.code,
      errorMessage: error.message,
      graphRequests: stats.graphRequests,
      throttledRetries: stats.throttledRetries,
    };
    if (error.transient) {
      // Nothing was removed (the plan is applied only after a complete read); the host retries the message.
      logger.warn('run attempt failed; will retry', {
        ...log,
        errorCode: error.code,
        attempt: attempt.dequeueCount,
        maxAttempts: attempt.maxDequeueCount,
      });
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
      const stored = await services.ledger.ledger.getConsumer(removal.licenseId, removal.contactId);
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
