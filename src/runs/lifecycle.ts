import { randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors';
import type { Fence } from '../domain/ledger';
import type { Services } from '../domain/ports';
import {
  PORTAL_READ_STATE_FIELDS,
  sameTenantSource,
  type LastRun,
  type PortalRecord,
  type RunRecord,
} from '../domain/records';

/**
 * A run's record through its states (queued -> running -> succeeded | failed | skipped), the portal's summary of
 * it, and the portal's lease that keeps two runs of one portal apart. Used by the sync, its dry run and the
 * poison queue.
 */

/**
 * A lease outlives a crashed worker by at most this long (a retry of a crashed attempt waits that long at most);
 * a live run renews it every quarter of it.
 */
const LEASE_TTL_MS = 20_000;
/** How often a retried attempt looks whether an earlier attempt of its run has let go of the lease. */
const LEASE_POLL_MS = 1_000;

export function lastRunOf(run: RunRecord): LastRun {
  const { id, trigger, status, queuedAt, startedAt, endedAt, counts, errorCode, errorMessage } = run;
  const { attempt, maxAttempts, nextAttemptAt } = run;
  return {
    id,
    trigger,
    status,
    queuedAt,
    startedAt,
    endedAt,
    counts,
    errorCode,
    errorMessage,
    ...(status === 'running' || status === 'retrying' ? { attempt, maxAttempts, nextAttemptAt } : {}),
  };
}

/**
 * Writes the run's fields onto the freshest portal record (ETag-guarded, see PortalRepository.modify): an admin's
 * change made meanwhile survives. When an admin pointed the portal at another tenant, app or cloud while the run
 * read the old one (`readFrom`), the run's read state (delta link...) is not kept. Nothing when the portal is gone.
 */
export async function recordOnPortal(
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

/** The error of a run the queue gave up on, with how many attempts it made. */
export function gaveUpMessage(run: Pick<RunRecord, 'errorMessage'>, attempts: number): string {
  const times = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (run.errorMessage) return `${run.errorMessage} (gave up after ${times})`;
  return `The run gave up after ${times} without a recorded error: the worker stopped or timed out during each attempt. The next scheduled run tries again; a run that large may need a longer functionTimeout.`;
}

/** One run's record as it changes; `recorded` says whether it is stored yet (a scheduled run's is not at first). */
export class RunRecorder {
  constructor(
    private readonly services: Services,
    public run: RunRecord,
    private recorded: boolean,
  ) {}

  /** Writes the run: creates its record on the first write when the message came without one. */
  async save(): Promise<void> {
    if (this.recorded) return this.services.ledger.runs.update(this.run);
    await this.services.ledger.runs.put(this.run);
    this.recorded = true;
  }

  /** The run ends: its record, and the portal's last run (with `portalPatch`, see recordOnPortal). */
  async finish(
    patch: Partial<RunRecord>,
    portalPatch: Partial<PortalRecord> = {},
    readFrom?: PortalRecord,
  ): Promise<RunRecord> {
    this.run = { ...this.run, ...patch, endedAt: this.services.now().toISOString() };
    // Both at once (one round trip, not two): each is complete on its own.
    await Promise.all([
      this.save(),
      recordOnPortal(this.services, this.run.portalId, { lastRun: lastRunOf(this.run), ...portalPatch }, readFrom),
    ]);
    return this.run;
  }

  /**
   * A skip that leaves the portal's last run alone: it names the run that holds the portal (or the one that
   * already synced it), which the next scheduled fan-out decides on.
   */
  async skip(skippedReason: string): Promise<RunRecord> {
    this.run = { ...this.run, status: 'skipped', skippedReason, endedAt: this.services.now().toISOString() };
    await this.save();
    return this.run;
  }
}

/** Someone else holds (or revoked) the lease: the run stops before its next write and is retried. */
export function leaseLost(detail: string): AppError {
  return new AppError('lease_lost', { transient: true, detail });
}

/** A holder per attempt: a second delivery of the same run message is another holder, never the same one. */
export function attemptHolder(runId: string, attempt: number): string {
  return `${runId}.${attempt}.${randomBytes(4).toString('hex')}`;
}

/** The run id in a holder made by attemptHolder (a purge's holder names none). */
export function runIdOfHolder(holder: string): string | undefined {
  return holder.startsWith(PURGE_HOLDER) ? undefined : holder.split('.')[0];
}

export const PURGE_HOLDER = 'purge.';

/** A lease held by one attempt; its fence is checked before each write step (see Fence). */
export interface PortalLease {
  readonly holder: string;
  /** Throws a transient lease_lost AppError once the lease is no longer this holder's. */
  readonly fence: Fence;
  release(): Promise<void>;
}

/**
 * The portal's lease, held by `holder` and renewed while the run lasts; undefined when another holder has it. A
 * failed renewal (an error, or the lease is no longer ours) makes every later fence throw without asking storage.
 */
export async function takeLease(
  services: Services,
  portalId: string,
  holder: string,
  onRenewFailure: (error: Error) => void,
  ttlMs = LEASE_TTL_MS,
): Promise<PortalLease | undefined> {
  const { leases } = services.ledger;
  if (!(await leases.acquire(portalId, holder, ttlMs))) return undefined;
  let lost: string | undefined;
  const renew = setInterval(() => {
    leases.renew(portalId, holder, ttlMs).then(
      (held) => {
        if (!held && !lost) {
          lost = 'the lease was taken over or revoked';
          onRenewFailure(new Error(lost));
        }
      },
      (error: unknown) => {
        lost ??= 'the lease could not be renewed';
        onRenewFailure(error as Error);
      },
    );
  }, ttlMs / 4);
  renew.unref();
  return {
    holder,
    fence: {
      assert: () => {
        if (lost) throw leaseLost(lost);
      },
      confirm: async () => {
        if (lost) throw leaseLost(lost);
        if (!(await leases.holds(portalId, holder))) {
          lost = 'the lease was taken over or revoked';
          throw leaseLost(lost);
        }
      },
    },
    release: async () => {
      clearInterval(renew);
      await leases.release(portalId, holder).catch(() => undefined);
    },
  };
}

export type RunLease =
  | { lease: PortalLease; waited: boolean }
  /** Another holder keeps the lease: a purge (no run id), another run, or a live earlier attempt of this run. */
  | { heldBy: string | undefined; heldByRun: string | undefined };

/**
 * The lease for one attempt of a run. An earlier attempt of the same run may still hold it: one that crashed
 * (its lease expires within LEASE_TTL_MS) or one still at work (a duplicate delivery; it renews). This attempt
 * waits for it to go, at most a little longer than a lease lives, then gives up (`heldBy`).
 */
export async function takeRunLease(
  services: Services,
  portalId: string,
  runId: string,
  attempt: number,
  onRenewFailure: (error: Error) => void,
): Promise<RunLease> {
  const holder = attemptHolder(runId, attempt);
  const deadline = Date.now() + LEASE_TTL_MS + 5 * LEASE_POLL_MS;
  for (let waited = false; ; waited = true) {
    const lease = await takeLease(services, portalId, holder, onRenewFailure);
    if (lease) return { lease, waited };
    const heldBy = await services.ledger.leases.holder(portalId);
    const heldByRun = heldBy === undefined ? undefined : runIdOfHolder(heldBy);
    if (heldBy !== undefined && (heldByRun !== runId || Date.now() > deadline)) return { heldBy, heldByRun };
    if (Date.now() > deadline) return { heldBy, heldByRun };
    await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
  }
}
