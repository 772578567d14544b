// @ts-check
import { audit, listPath } from '../api.js';
import { downloadLink } from '../download.js';
import { button, h, timeEl } from '../dom.js';
import { errorBox, loading, pageHeader } from './common.js';

/**
 * The audit trail: who changed what, newest first, a page at a time.
 * @param {import('../../app.js').ViewContext} ctx
 */
export async function auditView(ctx) {
  ctx.setTitle('Audit');
  const { root } = ctx;
  root.append(
    pageHeader({
      title: 'Audit',
      intro: 'Every change and every run started by hand: when, by whom, what. Newest first. Never a secret.',
    }),
  );
  const rows = h('tbody');
  const table = h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'table', id: 'audit-table' },
      h(
        'thead',
        null,
        h('tr', null, ...['When', 'Who', 'Action', 'Target', 'Summary'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      rows,
    ),
  );
  const more = h('div', { class: 'load-more' });
  const body = h('div');
  root.append(body);

  /** @param {string} [token] */
  const load = async (token) => {
    const done = loading(more, 'Loading…');
    /** @type {import('../api.js').AuditPage} */
    let page;
    try {
      page = await audit.list(token);
    } catch (error) {
      more.replaceChildren(errorBox(error, 'The audit trail could not be loaded'));
      return;
    } finally {
      done();
    }
    if (!ctx.isActive()) return;
    for (const item of page.items) {
      rows.append(
        h(
          'tr',
          null,
          h('td', null, timeEl(item.at, true)),
          h('td', { title: item.principal.objectId ?? '' }, item.principal.name),
          h('td', null, h('code', null, item.action)),
          h('td', null, item.target),
          h('td', null, item.summary),
        ),
      );
    }
    if (!token && page.items.length === 0) {
      body.replaceChildren(h('p', { class: 'muted' }, 'Nothing changed yet.'));
      return;
    }
    // The download is the whole trail, every page, not only those loaded here.
    if (!body.contains(table))
      body.append(h('p', null, downloadLink(listPath.audit(), 'the audit trail')), table, more);
    more.replaceChildren(
      page.continuationToken ? button('Load more', { onClick: () => void load(page.continuationToken) }) : '',
    );
  };
  body.append(more);
  await load();
}
