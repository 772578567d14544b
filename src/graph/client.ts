import type { GetTokenOptions, TokenCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { graphScope, type CloudEndpoints } from '../domain/clouds';
import { GraphNetworkError, SignInError } from './errors';
import type { GraphCallStats } from '../domain/tenant';

/**
 * One Graph client per portal and run: sign-in through the portal's credential, bounded retries of throttling
 * and unavailability, and counters of the requests it sent.
 *
 * The chain is Authentication -> Retry -> Transport -> HTTP. The SDK's own RetryHandler is not used: it rounds
 * an HTTP-date Retry-After to whole seconds, adds up to a second of jitter on top of its maximum delay, and
 * counts nothing; this one honours seconds, fractional seconds and HTTP dates exactly, caps every single wait
 * at a configurable bound, and counts each retry.
 */

export interface GraphRetryOptions {
  /** Retries of one request after 429/503/504; default 5. */
  maxRetries?: number;
  /** Upper bound of one wait, whatever Retry-After asks; default 60 s. */
  maxWaitMs?: number;
  /** First backoff when the answer has no Retry-After (doubles each retry); default 1 s. */
  baseDelayMs?: number;
}

const RETRY_STATUSES = new Set([429, 503, 504]);

/** Retry-After as seconds ("120"), fractional seconds ("0.5") or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class RetryMiddleware implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly options: Required<GraphRetryOptions>,
    private readonly stats: GraphCallStats,
  ) {}

  async execute(context: Context): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.next!.execute(context);
      const response = context.response;
      if (!response || !RETRY_STATUSES.has(response.status) || attempt >= this.options.maxRetries) return;
      const asked = retryAfterMs(response.headers.get('Retry-After'));
      const backoff = this.options.baseDelayMs * 2 ** attempt * (0.8 + Math.random() * 0.4);
      this.stats.throttledRetries++;
      await sleep(Math.min(asked ?? backoff, this.options.maxWaitMs));
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/**
 * Counts every request that goes out, and reads the whole body here, so a connection that breaks mid-page
 * surfaces as a GraphNetworkError instead of a JSON parse error deep in the SDK.
 */
class TransportMiddleware implements Middleware {
  private next?: Middleware;

  constructor(private readonly stats: GraphCallStats) {}

  async execute(context: Context): Promise<void> {
    this.stats.graphRequests++;
    try {
      await this.next!.execute(context);
      const response = context.response;
      if (!response || response.status === 204 || response.status === 304 || !response.body) return;
      const body = await response.arrayBuffer();
      context.response = new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      throw new GraphNetworkError(error);
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** Keeps a sign-in failure whole: the Graph client passes a GraphClientError through instead of flattening it. */
function signInReporting(credential: TokenCredential): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions) {
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        throw new SignInError(error);
      }
    },
  };
}

export function createGraphClient(
  credential: TokenCredential,
  endpoints: CloudEndpoints,
  stats: GraphCallStats,
  retry: GraphRetryOptions = {},
): Client {
  const authProvider = new TokenCredentialAuthenticationProvider(signInReporting(credential), {
    scopes: [graphScope(endpoints)],
  });
  const chain: Middleware[] = [
    new AuthenticationHandler(authProvider),
    new RetryMiddleware(
      {
        maxRetries: retry.maxRetries ?? 5,
        maxWaitMs: retry.maxWaitMs ?? 60_000,
        baseDelayMs: retry.baseDelayMs ?? 1_000,
      },
      stats,
    ),
    new TransportMiddleware(stats),
    new HTTPMessageHandler(),
  ];
  return Client.initWithMiddleware({
    middleware: chain,
    baseUrl: endpoints.graphEndpoint,
    defaultVersion: 'v1.0',
    // The SDK only attaches the token to Graph's own hosts, plus these (the simulator, a private cloud).
    customHosts: new Set([new URL(endpoints.graphEndpoint).hostname]),
  });
}
