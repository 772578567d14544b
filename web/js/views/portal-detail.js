// @ts-check
// One portal access: its settings, the run going on now (with progress), and its run history.
import { listPath, portals } from '../api.js';
import { downloadLink } from '../download.js';
import {
  alertBox,
  badge,
  button,
  formatDuration,
  formatNumber,
  h,
  plural,
  replaceChildren,
  timeEl,
  toggle,
} from '../dom.js';
import {
  AUTH_LABELS,
  CLOUD_LABELS,
  TRIGGER_LABELS,
  countsSummary,
  isRunActive,
  portalBadges,
  retryText,
  runStatusBadge,
} from '../labels.js';
import { deletePortal, errorBox, errorText, loading, pageHeader, syncNow } from './common.js';

/** @typedef {import('../api.js').Run} Run */
/** @typedef {import('../api.js').Portal} Portal */

/** @param {Run} run */
function runDetails(run) {
  if (run.status === 'failed') {
    return h(
      'div',
      { class: 'run-error' },
      h('p', null, run.errorMessage ?? 'The run failed.'),
      run.errorCode ? h('p', { class: 'error-code' }, `Error code: ${run.errorCode}`) : null,
    );
  }
  if (run.status === 'skipped') return h('p', null, run.skippedReason ?? 'Skipped.');
  if (run.status === 'retrying') {
    return h(
      'div',
      { class: 'run-retrying' },
      h('p', null, retryText(run)),
      run.errorMessage ? h('p', { class: 'muted' }, `Last attempt: ${run.errorMessage}`) : null,
      run.errorCode ? h('p', { class: 'error-code' }, `Error code: ${run.errorCode}`) : null,
    );
  }
  if (isRunActive(run)) {
    const c = run.counts;
    return h(
      'p',
      { class: 'muted' },
      run.status === 'queued'
        ? 'Waiting to start…'
        : `Reading… ${formatNumber(c.plansRead)} plans, ${formatNumber(c.usersRead)} users so far`,
    );
  }
  /** @type {(string | Node)[]} */
  const parts = [
    run.trigger === 'dryRun' ? `Preview, nothing written: ${countsSummary(run.counts)}` : countsSummary(run.counts),
  ];
  if (run.conflicts.length) {
    parts.push(
      h(
        'details',
        { class: 'conflicts' },
        h(
          'summary',
          null,
          `${run.conflicts.length} ${run.conflicts.length === 1 ? 'user' : 'users'} not linked: addresses held by several contacts`,
        ),
        h(
          'ul',
          null,
          ...run.conflicts.map((c) =>
            h('li', null, `${c.userPrincipalName}: ${c.addresses.join(', ')} (${c.contactIds.length} contacts)`),
          ),
        ),
      ),
    );
  }
  return h('div', null, ...parts);
}

/** @param {Run} run */
function progressPanel(run) {
  const started = run.startedAt ? ['Started ', timeEl(run.startedAt, true)] : ['Queued ', timeEl(run.queuedAt, true)];
  const counts = run.counts;
  return h(
    'section',
    { class: 'card run-now', 'aria-labelledby': 'run-now-title' },
    h(
      'h2',
      { id: 'run-now-title' },
      run.status === 'queued' ? 'Sync queued' : run.status === 'retrying' ? 'Sync retrying' : 'Sync in progress',
    ),
    h('progress', { class: 'run-progress', 'aria-labelledby': 'run-now-title' }),
    h(
      'p',
      { class: 'run-now-status', role: 'status' },
      run.status === 'queued'
        ? 'Waiting for the worker to pick the run up…'
        : run.status === 'retrying'
          ? `The last attempt failed (${run.errorCode ?? 'error'}): ${retryText(run)}.`
          : `Reading the tenant: ${formatNumber(counts.plansRead)} plans and ${formatNumber(counts.usersRead)} users so far…`,
    ),
    h('p', { class: 'muted' }, TRIGGER_LABELS[run.trigger], ' · ', ...started),
  );
}

/** @type {import('../../app.js').View} */
export async function portalDetailView(ctx) {
  const { root, id } = ctx;
  const header = h('div');
  const notices = h('div', { class: 'notices' });
  const runNow = h('div');
  const summary = h('div');
  const history = h('section', { class: 'card table-card', 'aria-labelledby': 'history-title' });
  root.append(header, notices, runNow, summary, history);
  const done = loading(summary);
  /** @type {Portal} */
  let portal;
  /** @type {Run[]} */
  let runs;
  try {
    [portal, runs] = await Promise.all([portals.get(id), portals.runs(id)]);
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  ctx.setTitle(portal.name);

  const renderHeader = () => {
    replaceChildren(
      header,
      pageHeader({
        title: portal.name,
        badges: portalBadges(portal),
        crumbs: [
          ['Portal accesses', '#/portals'],
          [portal.name, null],
        ],
        actions: [
          button('Sync now', {
            'data-admin': true,
            class: 'btn btn-primary',
            disabled: !portal.active,
            title: portal.active ? undefined : 'Activate the portal access to sync it',
            onClick: async () => {
              if ((await syncNow(ctx, portal)) !== undefined) await refresh();
            },
          }),
          h(
            'a',
            { 'data-admin': true, class: 'btn', href: `#/portals/${encodeURIComponent(portal.id)}/preview` },
            'Preview',
          ),
          button('Verify', { 'data-admin': true, onClick: (/** @type {Event} */ event) => void verify(event) }),
          h('a', { 'data-admin': true, class: 'btn', href: `#/portals/${encodeURIComponent(portal.id)}/edit` }, 'Edit'),
          h('a', { class: 'btn', href: `#/licenses?portal=${encodeURIComponent(portal.id)}` }, 'Licenses'),
          button('Delete', {
            'data-admin': true,
            class: 'btn btn-danger-quiet',
            onClick: async () => {
              if (await deletePortal(ctx, portal)) ctx.navigate('#/portals');
            },
          }),
        ],
      }),
    );
  };

  /** @param {Event} event */
  const verify = async (event) => {
    const trigger = /** @type {HTMLButtonElement} */ (event.currentTarget);
    trigger.disabled = true;
    replaceChildren(
      notices,
      h(
        'p',
        { class: 'loading', role: 'status' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        'Signing in to the tenant and reading its plans…',
      ),
    );
    try {
      const result = await portals.verify(portal.id);
      replaceChildren(
        notices,
        alertBox('success', 'Verified', `Signed in to the tenant and read ${plural(result.plans.length, 'plan')}.`),
      );
    } catch (error) {
      replaceChildren(notices, errorBox(error, 'The sign-in did not work'));
    } finally {
      trigger.disabled = false;
    }
  };

  const renderSummary = () => {
    /**
     * @param {string} term
     * @param {...import('../dom.js').Child} value
     */
    const row = (term, ...value) => [h('dt', null, term), h('dd', null, ...value)];
    replaceChildren(
      summary,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'settings-title' },
        h('h2', { id: 'settings-title' }, 'Settings'),
        h(
          'div',
          { class: 'summary-grid' },
          h(
            'dl',
            { class: 'props' },
            ...row('Tenant', h('span', { class: 'mono' }, portal.tenantId)),
            ...row('Client ID', h('span', { class: 'mono' }, portal.clientId)),
            ...row('Cloud', CLOUD_LABELS[portal.cloud]),
            ...row(
              'Credential',
              AUTH_LABELS[portal.authKind],
              portal.authKind === 'password' && portal.username ? ` (${portal.username})` : '',
              h('br'),
              portal.hasSecret
                ? h('span', { class: 'muted' }, 'Stored, set ', timeEl(portal.secretSetAt))
                : badge('No credentials stored', 'error'),
            ),
          ),
          h(
            'dl',
            { class: 'props' },
            ...row(
              'Active',
              toggle({
                label: 'Active',
                checked: portal.active,
                onChange: async (active) => {
                  try {
                    portal = await portals.update(portal.id, { active });
                    ctx.toast(
                      active
                        ? `"${portal.name}" is active.`
                        : `"${portal.name}" is deactivated: it is not synced; its data stays.`,
                      'success',
                    );
                    renderHeader();
                    renderRuns();
                  } catch (error) {
                    ctx.toast(`Could not change "${portal.name}": ${errorText(error)}`, 'error');
                    throw error;
                  }
                },
              }),
            ),
            ...row(
              'Automatic sync',
              toggle({
                label: 'Automatic sync',
                checked: portal.autoSync,
                onChange: async (autoSync) => {
                  try {
                    portal = await portals.update(portal.id, { autoSync });
                    ctx.toast(`Automatic sync of "${portal.name}" is ${autoSync ? 'on' : 'off'}.`, 'success');
                    renderRuns();
                  } catch (error) {
                    ctx.toast(`Could not change "${portal.name}": ${errorText(error)}`, 'error');
                    throw error;
                  }
                },
              }),
            ),
            ...row('Last successful sync', timeEl(portal.lastSuccessAt)),
            ...row(
              'Sign-in activity',
              portal.activity
                ? `On: inactive after ${portal.inactiveDays} days${portal.activityReadAt ? '' : ' (not read yet)'}`
                : 'Off',
            ),
            ...row('Created', timeEl(portal.createdAt)),
          ),
        ),
        portal.activityNotice
          ? alertBox('warning', 'Sign-in activity could not be read', portal.activityNotice.message)
          : null,
        portal.subscriptionsNotice
          ? alertBox('warning', 'Subscriptions could not be read', portal.subscriptionsNotice.message)
          : null,
        portal.authKind === 'password'
          ? alertBox(
              'warning',
              'Legacy sign-in',
              "This portal access signs in with a user's e-mail and password. Microsoft is retiring this, and it fails when the account requires MFA. Switch it to an app registration with a client secret or certificate.",
            )
          : null,
      ),
    );
  };

  const renderRuns = () => {
    const active = runs.find(isRunActive);
    replaceChildren(runNow, active ? progressPanel(active) : null);
    const rows = runs.map((run) =>
      h(
        'tr',
        {
          class: run.status === 'failed' ? 'row-error' : undefined,
          dataset: { runId: run.id, status: run.status, trigger: run.trigger, queuedAt: run.queuedAt },
        },
        h('td', null, timeEl(run.startedAt ?? run.queuedAt)),
        h('td', null, TRIGGER_LABELS[run.trigger]),
        h('td', null, runStatusBadge(run.status)),
        h(
          'td',
          { class: 'num' },
          isRunActive(run)
            ? h('progress', { class: 'run-progress small', 'aria-label': 'In progress' })
            : formatDuration(run.startedAt, run.endedAt),
        ),
        h('td', null, runDetails(run)),
        h(
          'td',
          { class: 'num' },
          formatNumber(run.graphRequests),
          run.throttledRetries
            ? h('span', { class: 'muted', title: 'Retries after throttling' }, ` (${run.throttledRetries} throttled)`)
            : null,
        ),
      ),
    );
    const skipNote = !portal.active
      ? 'Deactivated: scheduled runs skip this portal access. Its licenses, consumers and run history stay.'
      : !portal.autoSync
        ? 'Automatic sync is off: scheduled runs skip this portal access. "Sync now" still runs it.'
        : null;
    replaceChildren(
      history,
      h(
        'div',
        { class: 'card-header' },
        h('h2', { id: 'history-title' }, 'Run history'),
        h('p', { class: 'muted' }, 'Newest first, including the scheduled runs.'),
        downloadLink(listPath.runs(portal.id), 'run history'),
      ),
      skipNote ? h('p', { class: 'skip-note', id: 'schedule-note' }, skipNote) : null,
      runs.length === 0
        ? h('p', { class: 'empty-inline' }, 'No runs yet. Choose "Sync now" to run one, or wait for the schedule.')
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'table', id: 'run-table' },
              h('caption', { class: 'visually-hidden' }, `Run history of ${portal.name}`),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ...['When', 'Trigger', 'Status', 'Duration', 'Result', 'Graph requests'].map((t) =>
                    h('th', { scope: 'col', class: t === 'Duration' || t === 'Graph requests' ? 'num' : undefined }, t),
                  ),
                ),
              ),
              h('tbody', null, ...rows),
            ),
          ),
    );
  };

  const refresh = async () => {
    const [nextPortal, nextRuns] = await Promise.all([portals.get(id), portals.runs(id)]);
    if (!ctx.isActive()) return;
    const changed = JSON.stringify(nextRuns) !== JSON.stringify(runs);
    runs = nextRuns;
    let portalChanged = false;
    if (JSON.stringify(nextPortal) !== JSON.stringify(portal)) {
      portalChanged = portal.active !== nextPortal.active || portal.autoSync !== nextPortal.autoSync;
      portal = nextPortal;
      if (!summary.contains(document.activeElement)) renderSummary();
    }
    if (changed || portalChanged) renderRuns();
  };

  renderHeader();
  renderSummary();
  renderRuns();
  // Runs come from the schedule too: keep the history current, faster while one is going.
  let quietTicks = 0;
  ctx.poll(async () => {
    const busy = runs.some(isRunActive);
    quietTicks = busy ? 0 : quietTicks + 1;
    if (busy || quietTicks % 5 === 0) {
      try {
        await refresh();
      } catch (error) {
        replaceChildren(notices, errorBox(error, 'Could not refresh the run history'));
      }
    }
    return true;
  }, 1000);
}
