import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkDestination, signature, type Resolver } from './destination';

/**
 * Sends one notification over HTTPS to a checked, pinned address: the name is resolved and checked right before
 * the request, and the connection goes to that address (the certificate is still checked against the name).
 * No redirect is followed, the request has a short deadline and the answer is read only up to a small cap.
 */

export interface Outgoing {
  url: string;
  body: string;
  /** Stays the same across retries, so a receiver can de-duplicate. */
  deliveryId: string;
  /** Webhooks may have one; the signature header is absent without it. */
  signingSecret?: string;
}

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
  maxResponseBytes?: number;
  resolve?: Resolver;
}

export interface SendOutcome {
  ok: boolean;
  status?: number;
  /** Why it failed, in words a person can act on (never the URL's secret parts). */
  error?: string;
  /** The answer was larger than the cap and was not read to its end. */
  responseTruncated?: true;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export const DELIVERY_HEADER = 'X-License-Sync-Delivery';
export const SIGNATURE_HEADER = 'X-License-Sync-Signature';

export async function sendNotification(outgoing: Outgoing, options: SendOptions): Promise<SendOutcome> {
  const destination = await checkDestination(outgoing.url, options);
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all)
      (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address: destination.address, family: destination.family },
      ]);
    else callback(null, destination.address, destination.family);
  };
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(outgoing.body)),
    'User-Agent': 'm365-license-sync',
    [DELIVERY_HEADER]: outgoing.deliveryId,
  };
  if (outgoing.signingSecret) headers[SIGNATURE_HEADER] = signature(outgoing.body, outgoing.signingSecret);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cap = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const host = destination.url.hostname.replace(/^\[|\]$/g, '');

  return new Promise<SendOutcome>((resolve) => {
    const req = request(
      destination.url,
      { method: 'POST', headers, lookup: pinned, agent: false, servername: isIp(host) ? undefined : host },
      (res) => {
        let read = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > cap) {
            truncated = true;
            res.destroy();
          }
        });
        const done = () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300)
            resolve({ ok: true, status, ...(truncated ? { responseTruncated: true } : {}) });
          else if (status >= 300 && status < 400)
            resolve({
              ok: false,
              status,
              error: `The receiver answered ${status} (a redirect, which is not followed).`,
            });
          else resolve({ ok: false, status, error: `The receiver answered ${status}.` });
        };
        res.on('end', done);
        res.on('close', done);
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ ok: false, error: `The receiver did not answer within ${Math.round(timeoutMs / 1000)} s.` });
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, error: `The receiver could not be reached (${error.code ?? error.message}).` }),
    );
    req.end(outgoing.body);
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
