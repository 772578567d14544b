// @ts-check
// Pieces several views share: the page header, loading state, error display, portal actions.
import { ApiError, portals } from '../api.js';
import { alertBox, h, spinner } from '../dom.js';

/** @typedef {import('../../app.js').ViewContext} ViewContext */
/** @typedef {import('../api.js').Portal} Portal */

/**
 * @param {{ title: string, crumbs?: [text: string, href: string | null][], badges?: Node[], actions?: Node[],
 *   intro?: string }} options
 */
export function pageHeader({ title, crumbs = [], badges = [], actions = [], intro }) {
  return h(
    'header',
    { class: 'page-header' },
    crumbs.length
      ? h(
          'nav',
          { class: 'crumbs', 'aria-label': 'Breadcrumb' },
          h(
            'ol',
            null,
            ...crumbs.map(([text, href]) =>
              h('li', null, href ? h('a', { href }, text) : h('span', { 'aria-current': 'page' }, text)),
            ),
          ),
        )
      : null,
    h(
      'div',
      { class: 'page-title-row' },
      h(
        'h1',
        { tabindex: '-1' },
        title,
        badges.length ? h('span', { class: 'title-badges' }, ...badges.flatMap((b) => [' ', b])) : null,
      ),
      actions.length ? h('div', { class: 'toolbar' }, ...actions) : null,
    ),
    intro ? h('p', { class: 'intro' }, intro) : null,
  );
}

/**
 * Shows a spinner in root; returns what removes it.
 * @param {HTMLElement} root
 * @param {string} [text]
 */
export function loading(root, text = 'Loading…') {
  const node = h('div', { class: 'loading-block' }, spinner(text));
  root.appendChild(node);
  return () => node.remove();
}

/**
 * A readable error box for a failed request: the API's own message, and the code for support.
 * @param {unknown} error
 * @param {string} [title]
 */
export function errorBox(error, title = 'That did not work') {
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError && !/^http_|network|unauthorized/.test(error.code) ? error.code : undefined;
  return alertBox(
    'error',
    title,
    h('p', null, message),
    code ? h('p', { class: 'error-code' }, `Error code: ${code}`) : null,
  );
}

/** @param {unknown} error */
export function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Deletes a portal access after a confirmation; resolves true when it was deleted.
 * @param {ViewContext} ctx
 * @param {Portal} portal
 */
export async function deletePortal(ctx, portal) {
  const answer = await ctx.confirm({
    title: `Delete the portal access "${portal.name}"?`,
    body: [
      'Its stored credentials are deleted and it is never synced again.',
      'Its licenses, consumers and contacts stay in the ledger unless you also delete them below.',
    ],
    checkbox: 'Also delete its licenses and consumers from the ledger',
    confirmText: 'Delete portal access',
  });
  if (!answer.ok) return false;
  try {
    await portals.remove(portal.id, answer.checked);
    ctx.toast(`Deleted the portal access "${portal.name}".`, 'success');
    return true;
  } catch (error) {
    ctx.toast(`Could not delete "${portal.name}": ${errorText(error)}`, 'error');
    return false;
  }
}

/**
 * Queues a run now; resolves the run id, or undefined after telling the admin why not.
 * @param {ViewContext} ctx
 * @param {Portal} portal
 */
export async function syncNow(ctx, portal) {
  try {
    const result = await portals.sync(portal.id);
    ctx.toast(`Sync of "${portal.name}" queued.`, 'success');
    return result.runId;
  } catch (error) {
    ctx.toast(`Could not start a sync of "${portal.name}": ${errorText(error)}`, 'error');
    return undefined;
  }
}
