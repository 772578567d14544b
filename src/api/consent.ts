import type { HttpResponseInit } from '@azure/functions';
import { ConsentStateError, type StateProblem } from '../domain/consent';
import { isAppError } from '../domain/errors';
import { ConflictError } from '../domain/ledger';
import { completeConnect, ConsentRefusedError, startConnect } from '../portals/connect';
import type { connectPortalEndpoint } from './consentEndpoints';
import type { Controller, PageHandler } from './http';

/** The controller of POST /api/portals/connect and the handler of the consent callback, which answers pages. */

export const connectPortalController: Controller<typeof connectPortalEndpoint> = async (
  { body, principal },
  services,
) => ({
  status: 200,
  body: await startConnect(services, body, principal),
});

const STATE_TEXT: Record<StateProblem, string> = {
  missing: 'The answer from Microsoft carried no state, so it cannot be matched to a "Connect a tenant" request.',
  unknown: 'This consent answer does not belong to any "Connect a tenant" request of this app.',
  expired: 'The "Connect a tenant" request is older than an hour and has expired.',
  replayed: 'This consent answer has already been used.',
};

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

export function consentPage(title: string, paragraphs: string[]): HttpResponseInit {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/styles.css"></head>
<body><main class="consent-result"><h1>${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
<p><a href="/#/portals">Back to the portal accesses</a></p></main></body></html>`;
  return {
    status: 400,
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'self'",
    },
  };
}

export const consentCallbackHandler: PageHandler = async (request, services) => {
  try {
    const portal = await completeConnect(services, request.query);
    return {
      status: 302,
      headers: { location: `/#/portals/${encodeURIComponent(portal.id)}`, 'cache-control': 'no-store' },
    };
  } catch (error) {
    services.logger.info('tenant connection refused', {
      reason: error instanceof ConsentStateError ? `state ${error.problem}` : (error as Error).name,
    });
    if (error instanceof ConsentStateError) {
      return consentPage('The tenant was not connected', [
        STATE_TEXT[error.problem],
        'Nothing was created. Start again with "Connect a tenant" on the portal accesses page.',
      ]);
    }
    if (error instanceof ConsentRefusedError) {
      return consentPage('The tenant was not connected', [
        `Microsoft answered: ${error.reason || error.error} (${error.error}).`,
        'Nothing was created. An administrator of the tenant must accept the consent page; start again with "Connect a tenant".',
      ]);
    }
    if (error instanceof ConflictError || isAppError(error)) {
      return consentPage('The tenant was not connected', [error.message]);
    }
    services.logger.error('consentCallback failed', { error: (error as Error).name });
    return {
      ...consentPage('The tenant was not connected', ['An unexpected error occurred. Try again.']),
      status: 500,
    };
  }
};
