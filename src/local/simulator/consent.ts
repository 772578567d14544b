import type { ServerResponse } from 'node:http';
import { findTenant, type SimState } from './http';

/**
 * The admin-consent page, `<authority>/{organizations|common|tenant}/v2.0/adminconsent`. No one signs in here:
 * the answer is scripted (Simulator.answerConsent) and the browser is sent back at once, as Entra does after
 * the admin accepted or refused: `redirect_uri?admin_consent=True&tenant=&scope=&state=`, or
 * `?error=&error_description=&state=`. A request Entra would not redirect (unknown app, unregistered redirect
 * URI) gets an error page instead.
 */

export function isAdminConsentPath(segments: string[]): boolean {
  return segments.length === 3 && segments[1] === 'v2.0' && segments[2] === 'adminconsent';
}

function errorPage(res: ServerResponse, status: number, code: string, text: string): void {
  const body = `<!doctype html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS${code}: ${text.replace(/[<>&]/g, '')}</p></body></html>`;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function handleAdminConsent(state: SimState, res: ServerResponse, url: URL): void {
  const clientId = url.searchParams.get('client_id') ?? '';
  const redirectUri = url.searchParams.get('redirect_uri') ?? '';
  const app = state.federation.apps.get(clientId.toLowerCase());
  if (!app) {
    return errorPage(
      res,
      400,
      '700016',
      `Application with identifier '${clientId}' was not found in the directory. This can happen if the application has not been registered.`,
    );
  }
  if (!app.redirectUris.includes(redirectUri)) {
    return errorPage(
      res,
      400,
      '50011',
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    );
  }
  const answer = state.federation.consentAnswers.shift() ?? state.federation.defaultConsent;
  const back = new URL(redirectUri);
  const stateParam = url.searchParams.get('state');
  if (answer && 'tenantId' in answer) {
    const tenant = findTenant(state, answer.tenantId);
    if (tenant) {
      // The admin accepted: the app's service principal now exists in the tenant, with its permissions.
      if (!tenant.app(app.clientId))
        tenant.addApp({ clientId: app.clientId, displayName: app.displayName, permissions: app.permissions });
      back.searchParams.set('admin_consent', 'True');
      back.searchParams.set('tenant', tenant.tenantId);
      back.searchParams.set('scope', url.searchParams.get('scope') ?? '');
    } else {
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', `AADSTS90002: Tenant '${answer.tenantId}' not found.`);
    }
  } else {
    back.searchParams.set('error', answer?.error ?? 'access_denied');
    back.searchParams.set(
      'error_description',
      answer?.errorDescription ?? 'AADSTS65004: User declined to consent to access the app.',
    );
  }
  if (stateParam !== null) back.searchParams.set('state', stateParam);
  res.writeHead(302, { Location: back.toString(), 'Content-Length': 0 });
  res.end();
}
