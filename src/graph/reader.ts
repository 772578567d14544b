import type { SubscribedSku, User } from '@microsoft/microsoft-graph-types';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { Settings } from '../config/settings';
import { AppError } from '../domain/errors';
import type { PortalRecord } from '../domain/records';
import type { PortalSecret } from '../secrets/types';
import { createGraphClient, type GraphRetryOptions } from './client';
import { endpointsFor, type CloudEndpoints } from './clouds';
import { createCredential, probeTenant, type CredentialOptions } from './credentials';
import { SignInError, isEndpointResolutionFailure, toAppError } from './errors';
import { DeltaExpiredError, type GraphCallStats, type TenantPlan, type TenantReader, type TenantUser, type UserDeltaPage } from './types';
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

const DELTA_GONE_CODES = new Set(['syncStateNotFound', 'syncStateInvalid', 'resyncRequired', 'ResyncRequired']);

/** Reads one tenant for one run: plans, then users a page at a time (full or delta). Counts its own requests. */
export function createTenantReader(
  portal: Pick<PortalRecord, 'tenantId' | 'clientId' | 'cloud'>,
  secret: PortalSecret,
  settings: Settings,
  options: TenantReaderOptions = {},
): TenantReader {
  const endpoints = endpointsFor(portal.cloud, settings);
  const credential = createCredential(portal.tenantId, portal.clientId, secret, endpoints, options.signIn);
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
    if (new URL(link).origin !== origin) throw new AppError('graph_error', { detail: 'a paging link pointed away from the Graph endpoint' });
    return client.api(link);
  };

  /** The one place that follows @odata.nextLink: yields each page, returns the final page's delta link if any. */
  async function* pages<T>(first: () => Promise<GraphPage<T>>, next: (link: string) => Promise<GraphPage<T>>): AsyncGenerator<GraphPage<T>, string | undefined, undefined> {
    let page = await get(first);
    for (;;) {
      yield page;
      const nextLink = page['@odata.nextLink'];
      if (!nextLink) return page['@odata.deltaLink'];
      page = await get(() => next(nextLink));
    }
  }

  return {
    async readPlans(): Promise<TenantPlan[]> {
      const page = await get<GraphPage<SubscribedSku>>(() => client.api('/subscribedSkus').get());
      return (page.value ?? []).map(toTenantPlan);
    },

    async *readUsers(): AsyncIterable<TenantUser[]> {
      const userPages = pages<User>(
        () => client.api('/users').select([...USER_SELECT]).top(pageSize).get(),
        (link) => follow(link).get(),
      );
      for await (const page of userPages) yield (page.value ?? []).map(toTenantUser);
    },

    async *readUserDelta(deltaLink: string | undefined): AsyncGenerator<UserDeltaPage, string, undefined> {
      if (deltaLink && new URL(deltaLink).origin !== origin) throw new DeltaExpiredError('The delta link belongs to another Graph endpoint; a full read is needed.');
      const prefer = `odata.maxpagesize=${pageSize}`;
      const deltaPages = pages<DeltaUser>(
        () => (deltaLink ? follow(deltaLink) : client.api('/users/delta').select([...USER_SELECT])).header('Prefer', prefer).get(),
        (link) => follow(link).header('Prefer', prefer).get(),
      );
      let result: IteratorResult<GraphPage<DeltaUser>, string | undefined>;
      try {
        while (!(result = await deltaPages.next()).done) {
          const value = result.value.value ?? [];
          yield {
            users: value.filter((user) => !user['@removed']).map(toTenantUser),
            removedObjectIds: value.filter((user) => user['@removed'] && user.id).map((user) => user.id!.toLowerCase()),
          };
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
        client.api('/users/delta').select([...USER_SELECT]).query({ $deltatoken: 'latest' }).get());
      const link = page['@odata.deltaLink'];
      if (!link) throw new AppError('graph_error', { detail: 'the delta request for the latest state returned no delta link' });
      return link;
    },

    stats: () => ({ ...stats }),
  };
}

function isDeltaGone(error: unknown): boolean {
  const original = error instanceof AppError ? error.cause : error;
  return original instanceof GraphError && (original.statusCode === 410 || DELTA_GONE_CODES.has(original.code ?? ''));
}

async function mapError(error: unknown, endpoints: CloudEndpoints, tenantId: string): Promise<AppError> {
  if (error instanceof GraphError && (error.statusCode === 410 || DELTA_GONE_CODES.has(error.code ?? ''))) {
    // Keep the Graph error for readUserDelta to recognise; it becomes a DeltaExpiredError there.
    const appError = toAppError(error);
    return new AppError(appError.code, { transient: appError.transient, detail: appError.detail, cause: error });
  }
  if (error instanceof SignInError && isEndpointResolutionFailure(error.original)) {
    const probe = await probeTenant(endpoints.authorityHost, tenantId);
    if (probe === 'tenant_not_found') return new AppError('tenant_not_found');
    if (probe === 'unreachable') return new AppError('graph_unreachable', { transient: true });
  }
  return toAppError(error);
}
