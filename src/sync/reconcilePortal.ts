import type { ApplyCarry, Fence, PortalLedgerState, SyncStateGateway } from '../domain/ledger';
import { appendPlan, emptyPlan, type ChangePlan } from '../domain/plan';
import type { Services } from '../domain/ports';
import type { Conflict, LicenseRecord, PortalRecord, RunCounts } from '../domain/records';
import type { Notice } from '../domain/insights';
import type { TenantReader } from '../domain/tenant';
import { Reconciliation } from '../reconcile/reconcile';
import { traceStep } from '../telemetry';
import { readTenant } from './tenantRead';

/**
 * A dry run returns at most this many changes of each kind (the counts cover all): a preview of a large tenant's
 * first sync must not hold (or send) 150,000 links.
 */
export const PREVIEW_MAX_ITEMS = 1_000;
/** Conflicts a run record keeps (the count says how many there were). */
export const MAX_CONFLICTS_KEPT = 100;

/** What one reconciliation of a portal did (or, in a dry run, would do). */
export interface Outcome {
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
  /** A full read: distinct users holding at least one plan. */
  licensedUsers?: number;
  /** Every license of the portal as this run left it. */
  licenses: LicenseRecord[];
  /** The subscriptions could not be read (the licenses keep theirs). */
  subscriptionsNotice?: Notice;
}

/**
 * Where the parts of a plan go: a full run writes each part as it is made; a delta run (a few changes) writes its
 * parts together once; a dry run keeps them, up to PREVIEW_MAX_ITEMS of each kind.
 */
class PlanSink {
  readonly conflicts: Conflict[] = [];
  entitiesWritten = 0;
  truncated = false;
  private readonly carry: ApplyCarry = { mergedInto: new Map() };

  constructor(
    private readonly syncState: SyncStateGateway,
    private readonly state: PortalLedgerState,
    private readonly mode: 'write' | 'collect' | 'preview',
    readonly plan: ChangePlan,
    private readonly fence?: Fence,
  ) {}

  async write(part: ChangePlan): Promise<void> {
    for (const conflict of part.conflicts)
      if (this.conflicts.length < MAX_CONFLICTS_KEPT) this.conflicts.push(conflict);
    if (this.mode === 'preview') this.truncated = appendPlan(this.plan, part, PREVIEW_MAX_ITEMS) || this.truncated;
    else if (this.mode === 'collect') appendPlan(this.plan, part);
    else this.entitiesWritten += (await this.apply(part, this.carry)).entitiesWritten;
  }

  async close(): Promise<void> {
    if (this.mode === 'collect') this.entitiesWritten += (await this.apply(this.plan)).entitiesWritten;
  }

  /** Each write of the ledger is an `apply` span of the run. */
  private apply(part: ChangePlan, carry?: ApplyCarry) {
    return traceStep('apply', () => this.syncState.apply(part, this.state, carry, this.fence));
  }
}

/**
 * Reads the tenant (see readTenant) and reconciles the ledger with it, a batch of users at a time. Removals and
 * license counts come with the last part, after the whole read: a read that fails midway removes nothing.
 * `apply: false` is the dry run (it returns the plan and writes nothing).
 */
export async function reconcilePortal(
  services: Services,
  portal: PortalRecord,
  reader: TenantReader,
  now: Date,
  options: { allowDelta: boolean; apply: boolean; fence?: Fence },
): Promise<Outcome> {
  const { syncState } = services.ledger;
  const namesRead = services.planNames();
  namesRead.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
  const newContactId = syncState.contactIds(portal.id);
  const read = await readTenant(portal, reader, now, options);
  try {
    const expectedConsumers = read.plans.reduce((sum, plan) => sum + plan.consumedUnits, 0);
    const stateRead =
      read.mode === 'delta'
        ? syncState.loadUsers(portal.id, read.mentioned ?? [])
        : syncState.loadPortal(portal.id, { expectedConsumers });
    stateRead.catch(() => undefined);
    const [state, planNames] = await Promise.all([stateRead, namesRead]);
    const reconciliation = new Reconciliation({
      portal: { id: portal.id, name: portal.name },
      plans: read.plans,
      mode: read.mode,
      removedObjectIds: read.removedObjectIds,
      state,
      planNames,
      now: now.toISOString(),
      newContactId,
      lookUp: syncState.addressLookup({ mayScan: read.mode === 'full' }),
      inParts: options.apply && read.mode === 'full',
    });
    const mode = !options.apply ? 'preview' : read.mode === 'full' ? 'write' : 'collect';
    const sink = new PlanSink(
      syncState,
      state,
      mode,
      emptyPlan(portal.id, reconciliation.currentCounts()),
      options.fence,
    );
    // Each reconciliation step is a `reconcile` span of the run (the reads between them are tenant read spans).
    const opening = traceStep('reconcile', () => reconciliation.start());
    if (opening) await sink.write(opening);
    for await (const batch of read.batches)
      await sink.write(await traceStep('reconcile', () => reconciliation.step(batch)));
    await sink.write(traceStep('reconcile', () => reconciliation.finish()));
    await sink.close();
    return {
      counts: reconciliation.currentCounts(),
      conflicts: sink.conflicts,
      readMode: read.mode,
      deltaLink: read.deltaLink,
      linkExpired: read.linkExpired,
      plan: options.apply ? undefined : sink.plan,
      entitiesWritten: sink.entitiesWritten,
      licenses: reconciliation.finalLicenses(),
      ...(read.mode === 'full' ? { licensedUsers: reconciliation.licensedUserCount() } : {}),
      ...(read.subscriptionsNotice ? { subscriptionsNotice: read.subscriptionsNotice } : {}),
      ...(sink.truncated ? { truncated: true } : {}),
    };
  } finally {
    read.release();
  }
}
