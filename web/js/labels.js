// @ts-check
// Words the page shows for the API's codes. The codes come from the server (enums.js, generated from its
// schemas); each table here is typed to have a label for every code, so a new one without a label fails the
// type check (npm run typecheck:web).
import { badge, formatDate, h, plural } from './dom.js';

/** @typedef {import('./api.js').Portal} Portal */
/** @typedef {import('../../src/domain/records').Cloud} Cloud */
/** @typedef {import('../../src/domain/records').AuthKind} AuthKind */
/** @typedef {import('../../src/domain/records').RunTrigger} RunTrigger */
/** @typedef {import('../../src/domain/records').RunStatus} RunStatus */

export { AUTH_KINDS, CLOUDS } from './enums.js';

/** @type {Readonly<Record<Cloud, string>>} */
export const CLOUD_LABELS = {
  global: 'Global (Microsoft 365)',
  usgov: 'US Government (GCC High)',
  usgovdod: 'US Government (DoD)',
  china: 'China (operated by 21Vianet)',
  simulated: 'Simulated tenant (local demo)',
};

/** @type {Readonly<Record<Cloud, string>>} */
export const CLOUD_SHORT = {
  global: 'Global',
  usgov: 'US Gov',
  usgovdod: 'US Gov DoD',
  china: 'China',
  simulated: 'Simulated',
};

/** @type {Readonly<Record<AuthKind, string>>} */
export const AUTH_LABELS = {
  clientSecret: 'Client secret',
  certificate: 'Certificate',
  password: 'E-mail + password',
  federated: 'Federated (no secret)',
};

/** @type {Readonly<Record<AuthKind, [hint: string, tone: import('./dom.js').Tone]>>} */
export const AUTH_HINTS = {
  clientSecret: ['Recommended', 'neutral'],
  certificate: ['Recommended', 'neutral'],
  password: ['Legacy', 'warning'],
  federated: ['No secret', 'neutral'],
};

/** @type {Readonly<Record<RunTrigger, string>>} */
export const TRIGGER_LABELS = {
  schedule: 'Scheduled',
  manual: 'Sync now',
  dryRun: 'Preview',
};

/** @type {Readonly<Record<RunStatus, [text: string, tone: import('./dom.js').Tone]>>} */
const STATUS = {
  queued: ['Queued', 'neutral'],
  running: ['Running', 'info'],
  retrying: ['Retrying', 'warning'],
  succeeded: ['Succeeded', 'success'],
  failed: ['Failed', 'error'],
  skipped: ['Skipped', 'warning'],
};

/** @param {RunStatus} status */
export function runStatusBadge(status) {
  const [text, tone] = STATUS[status];
  return badge(text, tone);
}

/** Queued, running, or waiting for the queue to retry it. @param {{ status: RunStatus } | undefined} run */
export function isRunActive(run) {
  return run?.status === 'queued' || run?.status === 'running' || run?.status === 'retrying';
}

/**
 * "retrying, attempt 2 of 5, next at 14:05" for a run waiting for the queue's next attempt.
 * @param {{ attempt?: number; maxAttempts?: number; nextAttemptAt?: string }} run
 */
export function retryText(run) {
  const of = run.attempt ? `attempt ${run.attempt}${run.maxAttempts ? ` of ${run.maxAttempts}` : ''}` : '';
  const at = run.nextAttemptAt ? `next at ${formatDate(run.nextAttemptAt)}` : '';
  return ['retrying', of, at].filter(Boolean).join(', ');
}

/** @typedef {import('./api.js').RunCounts} RunCounts */

/** @type {[key: keyof RunCounts, one: string, many: string, done: string, planned: string][]} */
const CHANGES = [
  ['licensesCreated', 'license', 'licenses', 'created', 'to create'],
  ['licensesUpdated', 'license', 'licenses', 'updated', 'to change'],
  ['contactsCreated', 'contact', 'contacts', 'created', 'to create'],
  ['consumersAdded', 'consumer', 'consumers', 'added', 'to add'],
  ['consumersUpdated', 'consumer', 'consumers', 'updated', 'to change'],
  ['consumersRemoved', 'consumer', 'consumers', 'removed', 'to remove'],
  ['conflicts', 'conflict', 'conflicts', '', ''],
];

/**
 * The kinds of change with a count above 0, as [count, one, many]: "license created" for a run, "license to
 * create" for a plan.
 * @param {RunCounts} counts
 * @param {'done' | 'planned'} tense
 * @returns {[count: number, one: string, many: string][]}
 */
export function countedChanges(counts, tense) {
  return CHANGES.filter(([key]) => counts[key] > 0).map(([key, one, many, done, planned]) => {
    const verb = tense === 'done' ? done : planned;
    return [counts[key], `${one} ${verb}`.trim(), `${many} ${verb}`.trim()];
  });
}

/**
 * "4 plans · 120 users · 3 consumers added" – the changes a run made, in a line.
 * @param {RunCounts} counts
 */
export function countsSummary(counts) {
  const parts = [plural(counts.plansRead, 'plan'), plural(counts.usersRead, 'user')];
  const made = countedChanges(counts, 'done');
  if (made.length === 0) parts.push('no changes');
  for (const [n, one, many] of made) parts.push(plural(n, one, many));
  return parts.join(' · ');
}

/** @param {Portal} portal */
export function portalBadges(portal) {
  return [
    portal.authKind === 'password'
      ? badge('Legacy sign-in', 'warning', 'E-mail + password: deprecated by Microsoft, fails under MFA')
      : null,
    portal.cloud === 'simulated' ? badge('Simulated', 'info', 'The built-in simulated tenant of local runs') : null,
    portal.active ? null : badge('Inactive', 'neutral'),
  ].filter((node) => node !== null);
}

/** A credential expiring within this many days is shown in red. */
const EXPIRY_WARNING_DAYS = 30;

/** @param {Portal} portal */
export function credentialText(portal) {
  const kind = AUTH_LABELS[portal.authKind];
  const expires = portal.credentialExpiresAt ? Date.parse(portal.credentialExpiresAt) : NaN;
  const soon = Number.isFinite(expires) && expires - Date.now() < EXPIRY_WARNING_DAYS * 86_400_000;
  return h(
    'span',
    null,
    kind,
    !portal.hasSecret && portal.authKind !== 'federated'
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

/** @typedef {import('../../src/domain/alertRules').AlertRule} AlertRule */
/** @typedef {import('../../src/domain/alertRules').Severity} Severity */
/** @typedef {import('../../src/domain/alerts').ChannelKind} ChannelKind */

export { ALERT_RULES, SEVERITIES, CHANNEL_KINDS } from './enums.js';

/** @type {Readonly<Record<AlertRule, string>>} */
export const RULE_LABELS = {
  lowStock: 'Low stock',
  overAssigned: 'Over-assigned',
  expiring: 'Subscription renews or expires soon',
  assignmentErrors: 'Assignment errors',
  inactive: 'Inactive license holders',
  runFailures: 'Sync keeps failing',
  credentialExpiry: 'Credential expires soon',
  rightSize: 'Seats to cut before renewal',
};

/** @type {Readonly<Record<Severity, [text: string, tone: import('./dom.js').Tone]>>} */
export const SEVERITY_LABELS = {
  critical: ['Critical', 'error'],
  warning: ['Warning', 'warning'],
  info: ['Info', 'info'],
};

/** @type {Readonly<Record<ChannelKind, string>>} */
export const CHANNEL_LABELS = {
  webhook: 'Webhook',
  teams: 'Microsoft Teams (Workflows)',
  email: 'E-mail',
};
