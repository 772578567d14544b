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

/** A lease outlives a crashed worker by at most this long; a live run renews it well before. */
const LEASE_TTL_MS = 5 * 60_000;

export function lastRunOf(run: RunRecord): LastRun {
  const { id, trigger, status, queuedAt, startedAt, endedAt, counts, errorCode, errorMessage } = run;
  return { id, trigger, status, queuedAt, startedAt, endedAt, counts, errorCode, errorMessage };
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

/** The portal's lease, held by `holder` and renewed while the run lasts; undefined when another run holds it. */
export async function takeLease(
  services: Services,
  portalId: string,
  holder: string,
  onRenewFailure: (error: Error) => void,
): Promise<{ release(): Promise<void> } | undefined> {
  const { leases } = services.ledger;
  if (!(await leases.acquire(portalId, holder, LEASE_TTL_MS))) return undefined;
  const renew = setInterval(() => {
    leases.renew(portalId, holder, LEASE_TTL_MS).catch((error: unknown) => onRenewFailure(error as Error));
  }, LEASE_TTL_MS / 3);
  renew.unref();
  return {
    release: async () => {
      clearInterval(renew);
      await leases.release(portalId, holder).catch(() => undefined);
    },
  };
}
