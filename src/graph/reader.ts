import type { SubscribedSku, User } from '@microsoft/microsoft-graph-types';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { Settings } from '../config/settings';
import { AppError } from '../domain/errors';
import type { PortalRecord } from '../domain/records';
import type { PortalCredential } from '../domain/secrets';
import { createGraphClient, type GraphRetryOptions } from './client';
import { endpointsFor, type CloudEndpoints } from '../domain/clouds';
import { createCredential, probeTenant, type CredentialOptions } from './credentials';
import { SignInError, isEndpointResolutionFailure, graphFailure } from './errors';
import {
  DeltaExpiredError,
  type GraphCallStats,
  type TenantPlan,
  type TenantReader,
  type TenantUser,
  type UserDeltaPage,
} from '../domain/tenant';
import type { CompanySubscriptionFacts, UserActivity } from '../domain/insights';
import { USER_SELECT, toTenantPlan, toTenantUser } from './users';

export interface TenantReaderOptions {
  retry?: GraphRetryOptions;
  signIn?: CredentialOptions;
  /** $top of /users and the page size asked of /users/delta; Graph allows at most 999 (the default). */
  pageSize?: number;
}

interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

type DeltaUser = User & { '@removed'?: { reason?: string } };

/** Graph's limit of users a page when signInActivity is selected. */
export const ACTIVITY_PAGE_SIZE = 120;
const ACTIVITY_SELECT = ['id', 'signInActivity', 'createdDateTime'];
/** Graph's advanced query for users who hold a plan (needs ConsistencyLevel: eventual and $count=true). */
const LICENSED_USERS_FILTER = 'assignedLicenses/$count ne 0';

/** Graph's limit of values in one `$filter=id in (...)`. */
const USERS_BY_ID_PER_REQUEST = 15;

/** A delta item with every property the sync reads (null counts: Graph sends null for an empty value). */
function isComplete(user: DeltaUser): boolean {
  return USER_SELECT.every((property) => property in user);
}

const DELTA_GONE_CODES = new Set(['syncStateNotFound', 'syncStateInvalid', 'resyncRequired', 'ResyncRequired']);

/** Reads one tenant for one run: plans, then users a page at a time (full or delta). Counts its own requests. */
export function createTenantReader(
  portal: Pick<PortalRecord, 'tenantId' | 'clientId' | 'cloud'>,
  secret: PortalCredential,
  settings: Settings,
  options: TenantReaderOptions = {},
): TenantReader {
  const endpoints = endpointsFor(portal.cloud, settings);
  const credential = createCredential(portal.tenantId, portal.clientId, secret, endpoints, {
    ...options.signIn,
    federated: { federation: settings.federation, cloud: portal.cloud, ...options.signIn?.federated },
  });
  const stats: GraphCallStats = { graphRequests: 0, throttledRetries: 0 };
  const client = createGraphClient(credential, endpoints, stats, options.retry);
  const pageSize = Math.min(999, Math.max(1, options.pageSize ?? 999));
  const origin = new URL(endpoints.graphEndpoint).origin;

  const get = async <T>(request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw await mapError(error, endpoints, portal.tenantId);
    }
  };

  /** Follows a next link only to the Graph endpoint this portal uses: its token must go nowhere else. */
  const follow = (link: string) => {
    if (new URL(link).origin !== origin)
      throw new AppError('graph_error', { detail: 'a paging link pointed away from the Graph endpoint' });
    return client.api(link);
  };

  /** The one place that follows @odata.nextLink: yields each page, returns the final page's delta link if any. */
  async function* pages<T>(
    first: () => Promise<GraphPage<T>>,
    next: (link: string) => Promise<GraphPage<T>>,
  ): AsyncGenerator<GraphPage<T>, string | undefined, undefined> {
    let page = await get(first);
    for (;;) {
      yield page;
      const nextLink = page['@odata.nextLink'];
      if (!nextLink) return page['@odata.deltaLink'];
      page = await get(() => next(nextLink));
    }
  }

  /** Users by id, with every property the sync reads (Graph takes at most 15 ids in one `in` filter). */
  async function readUsersById(ids: string[]): Promise<Map<string, User>> {
    const found = new Map<string, User>();
    for (let i = 0; i < ids.length; i += USERS_BY_ID_PER_REQUEST) {
      const chunk = ids.slice(i, i + USERS_BY_ID_PER_REQUEST);
      const filter = `id in (${chunk.map((id) => `'${id.replace(/'/g, "''")}'`).join(',')})`;
      const page = await get<GraphPage<User>>(() =>
        client
          .api('/users')
          .filter(filter)
          .select([...USER_SELECT])
          .get(),
      );
      for (const user of page.value ?? []) if (user.id) found.set(user.id.toLowerCase(), user);
    }
    return found;
  }

  return {
    async readPlans(): Promise<TenantPlan[]> {
      const page = await get<GraphPage<SubscribedSku>>(() => client.api('/subscribedSkus').get());
      return (page.value ?? []).map(toTenantPlan);
    },

    async *readUsers(): AsyncIterable<TenantUser[]> {
      const userPages = pages<User>(
        () =>
          client
            .api('/users')
            .select([...USER_SELECT])
            .top(pageSize)
            .get(),
        (link) => follow(link).get(),
      );
      for await (const page of userPages) yield (page.value ?? []).map(toTenantUser);
    },

    async *readUserDelta(deltaLink: string | undefined): AsyncGenerator<UserDeltaPage, string, undefined> {
      if (deltaLink && new URL(deltaLink).origin !== origin)
        throw new DeltaExpiredError('The delta link belongs to another Graph endpoint; a full read is needed.');
      const prefer = `odata.maxpagesize=${pageSize}`;
      const deltaPages = pages<DeltaUser>(
        () =>
          (deltaLink ? follow(deltaLink) : client.api('/users/delta').select([...USER_SELECT]))
            .header('Prefer', prefer)
            .get(),
        (link) => follow(link).header('Prefer', prefer).get(),
      );
      let result: IteratorResult<GraphPage<DeltaUser>, string | undefined>;
      try {
        while (!(result = await deltaPages.next()).done) {
          const value = result.value.value ?? [];
          const changed = value.filter((user) => !user['@removed']);
          const removed = value.filter((user) => user['@removed'] && user.id).map((user) => user.id!.toLowerCase());
          // Graph may send a changed user with only the properties that changed: those users are read whole.
          const partial = changed.filter((user) => !isComplete(user) && user.id).map((user) => user.id!);
          const whole = partial.length > 0 ? await readUsersById(partial) : new Map<string, User>();
          const users: TenantUser[] = [];
          for (const user of changed) {
            if (isComplete(user)) users.push(toTenantUser(user));
            else if (user.id && whole.has(user.id.toLowerCase()))
              users.push(toTenantUser(whole.get(user.id.toLowerCase())!));
            else if (user.id) removed.push(user.id.toLowerCase()); // gone since the delta round saw it
          }
          yield { users, removedObjectIds: removed };
        }
      } catch (error) {
        if (isDeltaGone(error)) throw new DeltaExpiredError();
        throw error;
      }
      if (!result.value) throw new AppError('graph_error', { detail: 'the delta round ended without a delta link' });
      return result.value;
    },

    async latestDeltaLink(): Promise<string> {
      const page = await get<GraphPage<DeltaUser>>(() =>
        client
          .api('/users/delta')
          .select([...USER_SELECT])
          .query({ $deltatoken: 'latest' })
          .get(),
      );
      const link = page['@odata.deltaLink'];
      if (!link)
        throw new AppError('graph_error', { detail: 'the delta request for the latest state returned no delta link' });
      return link;
    },

    async sendMail(from, mail): Promise<void> {
      await get(() => client.api(`/users/${encodeURIComponent(from)}/sendMail`).post(mail));
    },

    async readSubscriptions(): Promise<CompanySubscriptionFacts[]> {
      const all: CompanySubscriptionFacts[] = [];
      const subscriptionPages = pages<CompanySubscriptionFacts>(
        () => client.api('/directory/subscriptions').get(),
        (link) => follow(link).get(),
      );
      for await (const page of subscriptionPages) for (const item of page.value ?? []) all.push(item);
      return all;
    },

    async *readSignInActivity(): AsyncIterable<UserActivity[]> {
      type ActivityUser = Pick<User, 'id' | 'createdDateTime'> & { signInActivity?: UserActivity['signInActivity'] };
      const activityPages = pages<ActivityUser>(
        () =>
          client
            .api('/users')
            .header('ConsistencyLevel', 'eventual')
            .filter(LICENSED_USERS_FILTER)
            .count(true)
            .select(ACTIVITY_SELECT)
            .top(ACTIVITY_PAGE_SIZE)
            .get(),
        (link) => follow(link).header('ConsistencyLevel', 'eventual').get(),
      );
      try {
        for await (const page of activityPages) {
          yield (page.value ?? []).flatMap((user) =>
            user.id
              ? [
                  {
                    objectId: user.id.toLowerCase(),
                    signInActivity: user.signInActivity ?? null,
                    ...(user.createdDateTime ? { createdAt: user.createdDateTime } : {}),
                  },
                ]
              : [],
          );
        }
      } catch (error) {
        throw activityRefusal(error) ?? error;
      }
    },

    stats: () => ({ ...stats }),
  };
}

/** Graph's 403s of signInActivity, which name what the tenant lacks (the AppError keeps Graph's error as cause). */
function activityRefusal(error: unknown): AppError | undefined {
  const original = error instanceof AppError ? error.cause : error;
  if (!(original instanceof GraphError) || original.statusCode !== 403) return undefined;
  if (original.code === 'Authentication_RequestFromNonPremiumTenantOrB2CTenant')
    return new AppError('activity_premium_missing');
  if (original.code === 'Authorization_RequestDenied') return new AppError('activity_permission_missing');
  return undefined;
}

/** Graph refused a delta link as expired (410 / syncStateNotFound...), possibly inside the AppError mapError made. */
function isDeltaGone(error: unknown): boolean {
  const original = error instanceof AppError ? error.cause : error;
  return original instanceof GraphError && (original.statusCode === 410 || DELTA_GONE_CODES.has(original.code ?? ''));
}

async function mapError(error: unknown, endpoints: CloudEndpoints, tenantId: string): Promise<AppError> {
  if (error instanceof GraphError && error.statusCode === 403) {
    // Kept as the cause: an optional read (sign-in activity) tells its refusals apart by Graph's code.
    const appError = graphFailure(error);
    return new AppError(appError.code, { detail: appError.detail, cause: error });
  }
  if (error instanceof GraphError && isDeltaGone(error)) {
    // Keep the Graph error for readUserDelta to recognise; it becomes a DeltaExpiredError there.
    const appError = graphFailure(error);
    return new AppError(appError.code, { transient: appError.transient, detail: appError.detail, cause: error });
  }
  if (error instanceof SignInError && isEndpointResolutionFailure(error.original)) {
    const probe = await probeTenant(endpoints.authorityHost, tenantId);
    if (probe === 'tenant_not_found') return new AppError('tenant_not_found');
    if (probe === 'unreachable') return new AppError('graph_unreachable', { transient: true });
  }
  return graphFailure(error);
}
