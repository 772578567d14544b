import { AppError, isAppError } from '../domain/errors';
import type { Notice } from '../domain/insights';
import { subscriptionsBySku, summarizeSubscriptions } from '../insights/subscriptions';
import type { Services } from '../domain/ports';
import type { PortalRecord } from '../domain/records';
import { DeltaExpiredError, type TenantPlan, type TenantReader, type TenantUser } from '../domain/tenant';
import { readAhead, started } from '../util/async';
import { LARGE_TENANT_USERS, largeReadSlots } from './memoryBudget';

/**
 * A full read asks for a delta link only for a tenant this large (by its previous run, or by the licenses its
 * plans say are in use): below it the full read is a few requests anyway, and reads every assignment state
 * exactly. So a small tenant's first sync is pages + 1 requests, and a large tenant's first sync already gets the
 * link that its later runs read changes from.
 */
export const DELTA_MIN_USERS = 5_000;
/** Graph's delta does not track licenseAssignmentStates, so a full read happens at least this often. */
const FULL_READ_INTERVAL_MS = 24 * 60 * 60_000;
/**
 * A full run reconciles and writes this many users at a time: the run holds at most this many users and their
 * changes (plus the compact ledger state).
 */
const APPLY_BATCH_USERS = 5_000;
/**
 * Graph pages read ahead while a batch is written: a batch and a page, so reading the next batch goes on while the
 * previous one is written (with Graph at about a second a page, a run would otherwise wait on both in turn).
 */
const READ_AHEAD_PAGES = 6;

/** What one run reads of a tenant: its plans, then its users in batches. */
export interface TenantRead {
  mode: 'full' | 'delta';
  plans: TenantPlan[];
  /** Delta: the users the round names, changed or removed (the ledger state to load is theirs). */
  mentioned?: string[];
  /** Delta: users removed from the tenant. */
  removedObjectIds?: string[];
  /** The users, a batch at a time (delta: one batch). */
  batches: AsyncIterable<TenantUser[]> | Iterable<TenantUser[]>;
  /** A new delta link to keep. */
  deltaLink?: string;
  /** The stored delta link was refused as expired (and no new one was obtained when deltaLink is unset). */
  linkExpired: boolean;
  /** Gives back the large-read slot the read held, if any. */
  release(): void;
  /** Graph refused the subscriptions (403): the plans carry none, the licenses keep what they had. */
  subscriptionsNotice?: Notice;
}

/**
 * The plans, each with its subscriptions (GET /directory/subscriptions, one request). A tenant that refuses the
 * subscriptions (403: a permission missing) still syncs: the read leaves a notice instead.
 */
async function readPlans(reader: TenantReader, now: Date): Promise<{ plans: TenantPlan[]; notice?: Notice }> {
  // One after the other: the plans' request signs in, and the subscriptions' reuses its token.
  const plans = await reader.readPlans();
  let subscriptions;
  try {
    subscriptions = await reader.readSubscriptions();
  } catch (error) {
    if (!isAppError(error) || error.code !== 'consent_missing') throw error;
    return { plans, notice: { code: error.code, message: error.message, at: now.toISOString() } };
  }
  const bySku = subscriptionsBySku(subscriptions);
  return {
    plans: plans.map((plan) => ({ ...plan, subscriptions: bySku.get(plan.skuId) ?? summarizeSubscriptions([]) })),
  };
}

/** The portal's credential and a reader of its tenant. */
export async function openTenant(services: Services, portal: PortalRecord): Promise<TenantReader> {
  // A federated portal has no secret: the managed identity signs it in.
  if (portal.authKind === 'federated') return services.openTenant(portal, { kind: 'federated' });
  const secret = await services.secrets.get(portal.id);
  if (!secret) throw new AppError('secret_missing');
  return services.openTenant(portal, secret);
}

async function* inBatches(pages: AsyncIterable<TenantUser[]>, size: number): AsyncGenerator<TenantUser[]> {
  let buffer: TenantUser[] = [];
  for await (const page of pages) {
    for (const user of page) buffer.push(user);
    if (buffer.length >= size) {
      yield buffer;
      buffer = [];
    }
  }
  if (buffer.length > 0) yield buffer;
}

/** Every round of a delta read: the changed users, the removed ones and the new link. */
async function readDelta(reader: TenantReader, deltaLink: string) {
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

/**
 * Reads the tenant: by Graph's delta when a fresh delta link exists (and the ledger has the sync's user links to
 * read just the changed users from), else in full. The plans are read alongside.
 *
 * A full read goes through `/users` (Graph's delta does not carry licenseAssignmentStates reliably). When the
 * portal of a large tenant has no delta link yet (or it just expired), one request for `$deltatoken=latest` is
 * made alongside the plans and before the users, so a change made while the users are read shows up in the next
 * delta round (at worst twice, which the reconciliation takes in its stride). A portal that has a link keeps it
 * through a full read: the next delta round replays the changes since that link, which the full read already saw.
 * The users of a full read come lazily, a batch at a time, as the caller asks for them.
 */
export async function readTenant(
  portal: PortalRecord,
  reader: TenantReader,
  now: Date,
  options: { allowDelta: boolean },
): Promise<TenantRead> {
  const plansRead = readPlans(reader, now);
  plansRead.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
  const fullReadDue =
    !portal.lastFullReadAt || now.getTime() - Date.parse(portal.lastFullReadAt) >= FULL_READ_INTERVAL_MS;

  let linkExpired = false;
  if (options.allowDelta && portal.deltaLink && portal.userLinksAt && !fullReadDue) {
    let delta: { users: TenantUser[]; removedObjectIds: string[]; deltaLink: string } | undefined;
    try {
      delta = await readDelta(reader, portal.deltaLink);
    } catch (error) {
      if (!(error instanceof DeltaExpiredError)) throw error;
      // The link expired (410 / syncStateNotFound): a full read instead.
      linkExpired = true;
    }
    if (delta) {
      const { users, removedObjectIds, deltaLink } = delta;
      return {
        mode: 'delta',
        ...(await plansRead.then(({ plans, notice }) => ({ plans, subscriptionsNotice: notice }))),
        mentioned: [...users.map((user) => user.objectId), ...removedObjectIds],
        removedObjectIds,
        batches: [users],
        deltaLink,
        linkExpired,
        release: () => undefined,
      };
    }
  }

  const usersLastRun = portal.lastRun?.counts?.usersRead ?? 0;
  const mayWantLink = options.allowDelta && reader.latestDeltaLink !== undefined;
  const large = usersLastRun >= DELTA_MIN_USERS;
  // Known from the last run: the link is asked for alongside the plans.
  const wantLinkNow = mayWantLink && (linkExpired || (!portal.deltaLink && large));
  const linkRead = wantLinkNow ? reader.latestDeltaLink!() : undefined;
  linkRead?.catch(() => undefined); // awaited below
  const { plans, notice } = await plansRead;
  // A tenant's size is known from its last run, or (a first sync, or after delta runs that read a few users) from
  // the licenses its plans say are in use.
  const assignments = plans.reduce((sum, plan) => sum + plan.consumedUnits, 0);
  // A large tenant without a link that its last run did not show large (its first sync): the link is asked for
  // now, before the users are read, so its second run is already a delta round.
  const wantLinkLate = mayWantLink && !wantLinkNow && !portal.deltaLink && assignments >= DELTA_MIN_USERS;
  const deltaLink = await (linkRead ?? (wantLinkLate ? reader.latestDeltaLink!() : undefined));
  // A large tenant's full read waits for one of the process's large-read slots (see memoryBudget.ts).
  const release =
    usersLastRun >= LARGE_TENANT_USERS || assignments >= LARGE_TENANT_USERS
      ? await largeReadSlots().acquire()
      : () => undefined;
  return {
    mode: 'full',
    plans,
    // The users are read from now on, while the caller loads the ledger state.
    batches: inBatches(started(readAhead(reader.readUsers(), READ_AHEAD_PAGES)), APPLY_BATCH_USERS),
    deltaLink,
    linkExpired,
    release,
    ...(notice ? { subscriptionsNotice: notice } : {}),
  };
}
