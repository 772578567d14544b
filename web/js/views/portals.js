// @ts-check
// The list of portal accesses: switches, the last run of each, and their actions.
import { listPath, portals } from '../api.js';
import { downloadLink } from '../download.js';
import { button, h, replaceChildren, timeEl, toggle } from '../dom.js';
import { CLOUD_SHORT, countsSummary, credentialText, isRunActive, portalBadges, runStatusBadge } from '../labels.js';
import { deletePortal, errorBox, errorText, loading, pageHeader, syncNow } from './common.js';
import { connectTenant } from './connect.js';

/** @typedef {import('../api.js').Portal} Portal */

/**
 * The list shows the first sentence of a run's error; the portal's page shows all of it.
 * @param {string} text
 */
function firstSentence(text) {
  const end = text.search(/\.\s/);
  return end > 0 ? text.slice(0, end + 1) : text;
}

/** @param {Portal} portal */
function lastRunCell(portal) {
  const run = portal.lastRun;
  if (!run) return h('span', { class: 'muted' }, 'Never run');
  return h(
    'div',
    { class: 'last-run' },
    h(
      'div',
      { class: 'last-run-head' },
      runStatusBadge(run.status),
      ' ',
      timeEl(run.endedAt ?? run.startedAt ?? run.queuedAt, true),
    ),
    isRunActive(run)
      ? h('progress', { class: 'run-progress', 'aria-label': `Run of ${portal.name} in progress` })
      : h(
          'div',
          { class: 'last-run-counts' },
          run.status === 'failed'
            ? h(
                'span',
                { class: 'error-text', title: run.errorMessage },
                firstSentence(run.errorMessage ?? run.errorCode ?? 'Failed'),
              )
            : countsSummary(run.counts),
        ),
  );
}

/** @type {import('../../app.js').View} */
export async function portalListView(ctx) {
  ctx.setTitle('Portal accesses');
  const { root } = ctx;
  const connect = connectTenant(ctx, () => list ?? []);
  root.append(
    pageHeader({
      title: 'Portal accesses',
      intro:
        'One portal access per Microsoft 365 tenant. Active portal accesses with automatic sync on are synced at every scheduled run.',
      actions: [
        h('a', { 'data-admin': true, class: 'btn btn-primary', href: '#/portals/new' }, 'Add portal access'),
        connect.button,
      ],
    }),
    connect.form,
  );
  const body = h('div');
  root.append(body);
  const done = loading(body, 'Loading portal accesses…');
  /** @type {Portal[]} */
  let list;
  try {
    list = await portals.list();
  } finally {
    done();
  }
  if (!ctx.isActive()) return;

  const renderTable = () => {
    if (list.length === 0) {
      replaceChildren(
        body,
        h(
          'div',
          { class: 'empty card' },
          h('h2', null, 'No portal accesses yet'),
          h(
            'p',
            null,
            'Add the first tenant: an app registration with a client secret or certificate and the application permissions Organization.Read.All and User.Read.All.',
          ),
          h('a', { 'data-admin': true, class: 'btn btn-primary', href: '#/portals/new' }, 'Add portal access'),
        ),
      );
      return;
    }
    const rows = [...list]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((portal) =>
        h(
          'tr',
          { dataset: { portalId: portal.id } },
          h(
            'th',
            { scope: 'row' },
            h('a', { href: `#/portals/${encodeURIComponent(portal.id)}` }, portal.name),
            ' ',
            ...portalBadges(portal).flatMap((b) => [b, ' ']),
          ),
          // A domain may break after each of its dots (a GUID breaks at its hyphens).
          h(
            'td',
            { class: 'mono wrap' },
            ...portal.tenantId.split('.').flatMap((part, i) => (i === 0 ? [part] : [h('wbr', null), `.${part}`])),
          ),
          h('td', null, CLOUD_SHORT[portal.cloud]),
          h('td', null, credentialText(portal)),
          h(
            'td',
            null,
            toggle({
              label: `Active: ${portal.name}`,
              checked: portal.active,
              onChange: async (active) => {
                try {
                  Object.assign(portal, await portals.update(portal.id, { active }));
                  ctx.toast(
                    `"${portal.name}" is ${active ? 'active' : 'deactivated: it is not synced, its data stays'}.`,
                    'success',
                  );
                  renderTable();
                } catch (error) {
                  ctx.toast(`Could not change "${portal.name}": ${errorText(error)}`, 'error');
                  throw error;
                }
              },
            }),
          ),
          h(
            'td',
            null,
            toggle({
              label: `Automatic sync: ${portal.name}`,
              checked: portal.autoSync,
              onChange: async (autoSync) => {
                try {
                  Object.assign(portal, await portals.update(portal.id, { autoSync }));
                  ctx.toast(`Automatic sync of "${portal.name}" is ${autoSync ? 'on' : 'off'}.`, 'success');
                } catch (error) {
                  ctx.toast(`Could not change "${portal.name}": ${errorText(error)}`, 'error');
                  throw error;
                }
              },
            }),
          ),
          h('td', null, lastRunCell(portal)),
          h(
            'td',
            { class: 'actions' },
            button('Sync now', {
              'data-admin': true,
              'aria-label': `Sync now: ${portal.name}`,
              disabled: !portal.active,
              title: portal.active ? undefined : 'Activate the portal access to sync it',
              onClick: async () => {
                const runId = await syncNow(ctx, portal);
                if (runId !== undefined) ctx.navigate(`#/portals/${encodeURIComponent(portal.id)}`);
              },
            }),
            h(
              'a',
              {
                'data-admin': true,
                class: 'btn',
                href: `#/portals/${encodeURIComponent(portal.id)}/preview`,
                'aria-label': `Preview: ${portal.name}`,
              },
              'Preview',
            ),
            h(
              'a',
              {
                'data-admin': true,
                class: 'btn',
                href: `#/portals/${encodeURIComponent(portal.id)}/edit`,
                'aria-label': `Edit: ${portal.name}`,
              },
              'Edit',
            ),
            button('Delete', {
              'data-admin': true,
              class: 'btn btn-danger-quiet',
              'aria-label': `Delete: ${portal.name}`,
              onClick: async () => {
                if (await deletePortal(ctx, portal)) {
                  list = list.filter((p) => p.id !== portal.id);
                  renderTable();
                }
              },
            }),
          ),
        ),
      );
    replaceChildren(
      body,
      h(
        'div',
        { class: 'card table-card' },
        h('div', { class: 'card-header' }, downloadLink(listPath.portals(), 'portal accesses')),
        h(
          'div',
          { class: 'table-scroll' },
          h(
            'table',
            { class: 'table', id: 'portal-table' },
            h('caption', { class: 'visually-hidden' }, 'Portal accesses'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ...['Name', 'Tenant', 'Cloud', 'Credential', 'Active', 'Automatic sync', 'Last run'].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
                h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
              ),
            ),
            h('tbody', null, ...rows),
          ),
        ),
      ),
    );
  };
  renderTable();

  // Keep the last-run column current: every 2 s while a run is going, else every 10 s (scheduled runs).
  let quietTicks = 0;
  ctx.poll(async () => {
    quietTicks = list.some((p) => isRunActive(p.lastRun)) ? 0 : quietTicks + 1;
    if (quietTicks % 5 !== 0) return true;
    try {
      list = await portals.list();
      if (ctx.isActive() && !document.activeElement?.closest('#portal-table')) renderTable();
    } catch (error) {
      body.prepend(errorBox(error, 'Could not refresh'));
      return false;
    }
    return true;
  }, 2000);
}
