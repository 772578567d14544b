// Words the page shows for the API's codes.
import { badge, h, plural } from './dom.js';

export const CLOUD_LABELS = {
  global: 'Global (Microsoft 365)',
  usgov: 'US Government (GCC High)',
  usgovdod: 'US Government (DoD)',
  china: 'China (operated by 21Vianet)',
  simulated: 'Simulated tenant (local demo)',
};

export const CLOUD_SHORT = {
  global: 'Global',
  usgov: 'US Gov',
  usgovdod: 'US Gov DoD',
  china: 'China',
  simulated: 'Simulated',
};

export const AUTH_LABELS = {
  clientSecret: 'Client secret',
  certificate: 'Certificate',
  password: 'E-mail + password',
  federated: 'Federated (no secret)',
};

export const TRIGGER_LABELS = {
  schedule: 'Scheduled',
  manual: 'Sync now',
  dryRun: 'Preview',
};

const STATUS = {
  queued: ['Queued', 'neutral'],
  running: ['Running', 'info'],
  succeeded: ['Succeeded', 'success'],
  failed: ['Failed', 'error'],
  skipped: ['Skipped', 'warning'],
};

export function runStatusBadge(status) {
  const [text, tone] = STATUS[status] ?? [String(status ?? 'Unknown'), 'neutral'];
  return badge(text, tone);
}

export function isRunActive(run) {
  return Boolean(run) && (run.status === 'queued' || run.status === 'running');
}

/** "4 plans · 120 users · 3 consumers added" – the changes a run made, in a line. */
export function countsSummary(counts) {
  if (!counts) return '';
  const parts = [plural(counts.plansRead ?? 0, 'plan'), plural(counts.usersRead ?? 0, 'user')];
  const changes = [
    [counts.licensesCreated, 'license created', 'licenses created'],
    [counts.licensesUpdated, 'license updated', 'licenses updated'],
    [counts.contactsCreated, 'contact created', 'contacts created'],
    [counts.consumersAdded, 'consumer added', 'consumers added'],
    [counts.consumersUpdated, 'consumer updated', 'consumers updated'],
    [counts.consumersRemoved, 'consumer removed', 'consumers removed'],
    [counts.conflicts, 'conflict', 'conflicts'],
  ].filter(([n]) => n > 0);
  if (changes.length === 0) parts.push('no changes');
  for (const [n, one, many] of changes) parts.push(plural(n, one, many));
  return parts.join(' · ');
}

export function portalBadges(portal) {
  return [
    portal.authKind === 'password'
      ? badge('Legacy sign-in', 'warning', 'E-mail + password: deprecated by Microsoft, fails under MFA')
      : null,
    portal.cloud === 'simulated' ? badge('Simulated', 'info', 'The built-in simulated tenant of local runs') : null,
    portal.active ? null : badge('Inactive', 'neutral'),
  ].filter(Boolean);
}

/** A credential expiring within this many days is shown in red. */
const EXPIRY_WARNING_DAYS = 30;

export function credentialText(portal) {
  const kind = AUTH_LABELS[portal.authKind] ?? portal.authKind;
  const expires = portal.credentialExpiresAt ? Date.parse(portal.credentialExpiresAt) : NaN;
  const soon = Number.isFinite(expires) && expires - Date.now() < EXPIRY_WARNING_DAYS * 86_400_000;
  return h(
    'span',
    null,
    kind,
    portal.hasSecret === false && portal.authKind !== 'federated'
      ? [' ', badge('Not set', 'error', 'No stored credentials: the portal cannot sign in')]
      : null,
    Number.isFinite(expires)
      ? h(
          'span',
          { class: `credential-expiry${soon ? ' error-text' : ''}`, dataset: { soon: String(soon) } },
          ` · ${expires < Date.now() ? 'expired' : 'expires'} ${new Date(expires).toISOString().slice(0, 10)}`,
        )
      : null,
  );
}
