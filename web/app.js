// @ts-check
// The admin page: a hash router over a few views, each built with DOM calls on top of the HTTP API.
import { session, setKeyPrompt, storedKey, storeKey } from './js/api.js';
import { byId, h, replaceChildren } from './js/dom.js';
import { portalListView } from './js/views/portals.js';
import { portalFormView } from './js/views/portal-form.js';
import { portalDetailView } from './js/views/portal-detail.js';
import { previewView } from './js/views/preview.js';
import { licenseListView, licenseDetailView } from './js/views/licenses.js';
import { contactsView } from './js/views/contacts.js';
import { alertsView, refreshAlertBadge } from './js/views/alerts.js';
import { auditView } from './js/views/audit.js';
import { licensedUsersView, pricesView, wasteView } from './js/views/insights.js';
import { renewalsView } from './js/views/renewals.js';

/**
 * What a view gets: where to draw, what the address names, and the page's shared services.
 * @typedef {object} ViewContext
 * @property {HTMLElement} root
 * @property {string} id The id the route names (e.g. the portal of #/portals/{id}); '' on routes without one.
 * @property {string} path
 * @property {URLSearchParams} query
 * @property {(hash: string) => void} navigate
 * @property {(message: string, tone?: import('./js/dom.js').Tone) => void} toast
 * @property {(options: ConfirmOptions) => Promise<{ ok: boolean, checked: boolean }>} confirm
 * @property {(node: Node) => void} flash A message shown at the top of the next view (after a navigation).
 * @property {() => boolean} isActive False once the admin has moved on to another view.
 * @property {(fn: () => void) => void} onCleanup
 * @property {(title: string) => void} setTitle
 * @property {(fn: () => Promise<boolean>, ms: number) => void} poll Calls fn every ms while the view is shown;
 *   fn resolving false stops it.
 */
/** @typedef {{ title: string, body: (string | Node)[], confirmText?: string, checkbox?: string }} ConfirmOptions */
/** @typedef {(ctx: ViewContext) => Promise<void>} View */

/** @type {[RegExp, View][]} */
const routes = [
  [/^\/portals\/new$/, portalFormView],
  [/^\/portals\/([^/]+)\/edit$/, portalFormView],
  [/^\/portals\/([^/]+)\/preview$/, previewView],
  [/^\/portals\/([^/]+)$/, portalDetailView],
  [/^\/portals$/, portalListView],
  [/^\/licenses\/([^/]+)$/, licenseDetailView],
  [/^\/licenses$/, licenseListView],
  [/^\/contacts$/, contactsView],
  [/^\/alerts$/, alertsView],
  [/^\/audit$/, auditView],
  [/^\/waste$/, wasteView],
  [/^\/renewals$/, renewalsView],
  [/^\/reports\/licensed-users$/, licensedUsersView],
  [/^\/prices$/, pricesView],
];

const ADMIN_ROLE = 'LicenseSync.Admin';

/** Who is signed in: shown at the top; without the admin role, what would change something is hidden. */
async function showWho() {
  const who = byId('who', HTMLElement);
  try {
    const me = await session.me();
    const admin = me.roles.includes(ADMIN_ROLE);
    document.body.dataset.canChange = String(admin);
    const role = admin ? 'Admin' : me.roles.includes('LicenseSync.Reader') ? 'Reader' : 'no role';
    who.textContent = me.authMode === 'easyauth' ? `${me.name} (${role})` : '';
    who.hidden = me.authMode !== 'easyauth';
  } catch {
    // The views show the API's own error (401, 403, unreachable).
  }
}

const main = byId('main', HTMLElement);
const toasts = byId('toasts', HTMLElement);
/** @type {(() => void)[]} */
let cleanups = [];
/** @type {Node | undefined} */
let flashNode;
let firstRender = true;

/** @type {ViewContext['toast']} */
function toast(message, tone = 'info') {
  const node = h('div', { class: `toast toast-${tone}` }, message);
  toasts.appendChild(node);
  setTimeout(() => node.remove(), tone === 'error' ? 10000 : 6000);
}

/** @type {ViewContext['confirm']} */
function confirmDialog({ title, body, confirmText = 'Delete', checkbox }) {
  const dialog = byId('confirm-dialog', HTMLDialogElement);
  byId('confirm-title', HTMLElement).textContent = title;
  const box = checkbox ? h('input', { type: 'checkbox', id: 'confirm-check' }) : null;
  replaceChildren(
    byId('confirm-body', HTMLElement),
    ...body.map((part) => (typeof part === 'string' ? h('p', null, part) : part)),
    box ? h('div', { class: 'checkbox-field' }, box, h('label', { for: 'confirm-check' }, checkbox)) : null,
  );
  byId('confirm-ok', HTMLButtonElement).textContent = confirmText;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => resolve({ ok: dialog.returnValue === 'confirm', checked: box?.checked ?? false }),
      { once: true },
    );
    dialog.showModal();
    byId('confirm-cancel', HTMLButtonElement).focus();
  });
}

/** @type {import('./js/api.js').KeyPrompt} */
function askForKey(rejected) {
  const dialog = byId('key-dialog', HTMLDialogElement);
  const input = byId('key-input', HTMLInputElement);
  byId('key-rejected', HTMLElement).hidden = !rejected;
  input.setAttribute('aria-invalid', rejected ? 'true' : 'false');
  input.value = '';
  dialog.returnValue = '';
  keyButton.hidden = false;
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        const key = input.value.trim();
        resolve(dialog.returnValue === 'use' && key ? key : undefined);
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
}

const keyButton = byId('key-button', HTMLButtonElement);
setKeyPrompt(askForKey);
if (storedKey()) keyButton.hidden = false;
keyButton.addEventListener('click', () => {
  void askForKey(false).then((key) => {
    if (!key) return;
    storeKey(key);
    toast('Function key saved for this tab.', 'success');
    void render();
  });
});

/** @param {string} text */
function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The address after the #: its path (undefined when it is no valid percent-encoding, which no view can show)
 * and its query.
 */
function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?');
  const path = pathPart.replace(/\/+$/, '') || '/portals';
  return { path, query: new URLSearchParams(queryPart) };
}

/**
 * The view for a path and the id it names, or undefined when no route matches or the id is no valid
 * percent-encoding. Paths are matched still encoded, so an id may hold any character, "/" too.
 * @param {string} path
 * @returns {{ view: View, id: string } | undefined}
 */
function route(path) {
  for (const [pattern, view] of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    const id = decode(match[1] ?? '');
    return id === undefined ? undefined : { view, id };
  }
  return undefined;
}

/** @param {string} hash */
export function navigate(hash) {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

async function render() {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  void refreshAlertBadge();
  const { path, query } = parseHash();
  const match = route(path);
  const section = document.querySelector('[data-nav].active');
  section?.classList.remove('active');
  section?.removeAttribute('aria-current');
  const navKey = path.split('/')[1];
  const navLink = Array.from(document.querySelectorAll('[data-nav]')).find(
    (link) => link instanceof HTMLElement && link.dataset.nav === navKey,
  );
  navLink?.classList.add('active');
  navLink?.setAttribute('aria-current', 'page');

  const view = h('div', { class: 'view' });
  const flash = flashNode;
  flashNode = undefined;
  replaceChildren(main, view);
  if (!firstRender) main.focus({ preventScroll: false });
  firstRender = false;
  window.scrollTo(0, 0);

  let active = true;
  cleanups.push(() => {
    active = false;
  });
  /** @type {ViewContext} */
  const ctx = {
    root: view,
    id: match?.id ?? '',
    path,
    query,
    navigate,
    toast,
    confirm: confirmDialog,
    flash: (node) => {
      flashNode = node;
    },
    isActive: () => active,
    onCleanup: (fn) => cleanups.push(fn),
    setTitle: (title) => {
      document.title = `${title} – M365 License Sync`;
    },
    poll: (fn, ms) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      const tick = async () => {
        if (!active) return;
        let again = true;
        try {
          again = await fn();
        } catch {
          again = true;
        }
        if (active && again) timer = setTimeout(() => void tick(), ms);
      };
      timer = setTimeout(() => void tick(), ms);
      cleanups.push(() => clearTimeout(timer));
    },
  };
  if (!match) {
    ctx.setTitle('Not found');
    view.append(
      h('h1', null, 'Page not found'),
      h('p', null, h('a', { href: '#/portals' }, 'Go to the portal accesses')),
    );
    return;
  }
  try {
    await match.view(ctx);
    // A message from the previous view (e.g. "Verified") goes right under this view's title.
    if (flash && active) {
      const header = view.querySelector('.page-header');
      if (header) header.after(flash);
      else view.prepend(flash);
    }
  } catch (error) {
    if (!active) return;
    view.append(
      h(
        'div',
        { class: 'alert alert-error', role: 'alert' },
        h('p', { class: 'alert-title' }, 'This page could not be loaded'),
        h('p', null, error instanceof Error ? error.message : String(error)),
      ),
    );
  }
}

window.addEventListener('hashchange', () => void render());
// In parallel: with a function key both wait for the same prompt.
void showWho();
void render();
