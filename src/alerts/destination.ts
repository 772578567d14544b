import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { AppError } from '../domain/errors';

/**
 * Where a notification may go. A channel's URL is an admin's input that the app itself calls, so it must not
 * reach the app's own network: https only, and every address the name resolves to must be public. The check runs
 * when a channel is saved and again when it is sent, and the request then goes to the address checked (pinned),
 * so a name that resolves differently a moment later cannot swap it.
 */

/** ipaddr.js range names that are not the public internet (loopback, RFC 1918, link-local incl. metadata...). */
const PUBLIC_RANGES = new Set(['unicast']);

export interface CheckedDestination {
  url: URL;
  /** The address the request must connect to. */
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

function refuse(detail: string): AppError {
  return new AppError('channel_url_refused', { detail });
}

/** Whether an address is on the public internet (an IPv4-mapped IPv6 address is judged as its IPv4 one). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return PUBLIC_RANGES.has(parsed.range());
}

/**
 * Checks a channel URL and resolves it to the address to connect to. `allowPrivate` (the operator's
 * LICENSE_SYNC_ALLOW_PRIVATE_WEBHOOKS) lifts the address check, never the https rule.
 */
export async function checkDestination(
  raw: string,
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<CheckedDestination> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('The URL is not a valid absolute URL.');
  }
  if (url.protocol !== 'https:') throw refuse('The URL must use https.');
  if (url.username || url.password) throw refuse('The URL must not carry a user name or password.');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host)
    ? [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }]
    : await (options.resolve ?? systemResolver)(host).catch(() => {
        throw refuse(`The name ${host} does not resolve.`);
      });
  if (addresses.length === 0) throw refuse(`The name ${host} does not resolve.`);
  if (!options.allowPrivate) {
    const inner = addresses.find((a) => !isPublicAddress(a.address));
    if (inner)
      throw refuse(
        `${host} resolves to ${inner.address}, a loopback, private, link-local or metadata address; ` +
          'notifications go only to public addresses (the operator can allow private ones with ' +
          'LICENSE_SYNC_ALLOW_PRIVATE_WEBHOOKS=true).',
      );
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** `sha256=<lowercase hex HMAC-SHA256 of the raw body>`, the X-License-Sync-Signature header's value. */
export function signature(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
