// The admin page: a hash router over a few views, each built with DOM calls on top of the HTTP API.
import { session, setKeyPrompt, storedKey, storeKey } from './js/api.js';
import { h, replaceChildren } from './js/dom.js';
import { portalListView } from './js/views/portals.js';
import { portalFormView } from './js/views/portal-form.js';
import { portalDetailView } from './js/views/portal-detail.js';
import { previewView } from './js/views/preview.js';
import { licenseListView, licenseDetailView } from './js/views/licenses.js';
import { contactsView } from './js/views/contacts.js';
import { auditView } from './js/views/audit.js';

const routes = [
  [/^\/portals\/new$/, portalFormView],
  [/^\/portals\/([^/]+)\/edit$/, portalFormView],
  [/^\/portals\/([^/]+)\/preview$/, previewView],
  [/^\/portals\/([^/]+)$/, portalDetailView],
  [/^\/portals$/, portalListView],
  [/^\/licenses\/([^/]+)$/, licenseDetailView],
  [/^\/licenses$/, licenseListView],
  [/^\/contacts$/, contactsView],
  [/^\/audit$/, auditView],
];

const ADMIN_ROLE = 'LicenseSync.Admin';

/** Who is signed in: shown at the top; without the admin role, what would change something is hidden. */
async function showWho() {
  const who = document.getElementById('who');
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

const main = document.getElementById('main');
const toasts = document.getElementById('toasts');
let cleanups = [];
let flashNode;
let firstRender = true;

function toast(message, tone = 'info') {
  const node = h('div', { class: `toast toast-${tone}` }, message);
  toasts.appendChild(node);
  setTimeout(() => node.remove(), tone === 'error' ? 10000 : 6000);
}

function confirmDialog({ title, body, confirmText = 'Delete', checkbox }) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  const box = checkbox ? h('input', { type: 'checkbox', id: 'confirm-check' }) : null;
  replaceChildren(
    document.getElementById('confirm-body'),
    ...body.map((part) => (typeof part === 'string' ? h('p', null, part) : part)),
    box ? h('div', { class: 'checkbox-field' }, box, h('label', { for: 'confirm-check' }, checkbox)) : null,
  );
  document.getElementById('confirm-ok').textContent = confirmText;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => resolve({ ok: dialog.returnValue === 'confirm', checked: box?.checked ?? false }),
      { once: true },
    );
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

function askForKey(rejected) {
  const dialog = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  document.getElementById('key-rejected').hidden = !rejected;
  input.setAttribute('aria-invalid', rejected ? 'true' : 'false');
  input.value = '';
  dialog.returnValue = '';
  document.getElementById('key-button').hidden = false;
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

setKeyPrompt(askForKey);
const keyButton = document.getElementById('key-button');
if (storedKey()) keyButton.hidden = false;
keyButton.addEventListener('click', async () => {
  const key = await askForKey(false);
  if (key) {
    storeKey(key);
    toast('Function key saved for this tab.', 'success');
    render();
  }
});

function parseHash() {
  const raw = decodeURI(location.hash.replace(/^#/, '')) || '/portals';
  const [pathPart, queryPart = ''] = raw.split('?');
  return { path: pathPart.replace(/\/+$/, '') || '/portals', query: new URLSearchParams(queryPart) };
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  const { path, query } = parseHash();
  const match = routes.map(([pattern, view]) => [path.match(pattern), view]).find(([m]) => m);
  const section = document.querySelector('[data-nav].active');
  section?.classList.remove('active');
  section?.removeAttribute('aria-current');
  const navKey = path.split('/')[1];
  const navLink = document.querySelector(`[data-nav="${navKey}"]`);
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
  const ctx = {
    root: view,
    params: match ? match[0].slice(1).map((p) => decodeURIComponent(p)) : [],
    path,
    query,
    navigate,
    toast,
    confirm: confirmDialog,
    /** A message shown at the top of the next view (after a navigation). */
    flash: (node) => {
      flashNode = node;
    },
    isActive: () => active,
    onCleanup: (fn) => cleanups.push(fn),
    setTitle: (title) => {
      document.title = `${title} – M365 License Sync`;
    },
    /** Polls fn every ms while this view is shown; fn returning false stops it. */
    poll: (fn, ms) => {
      let timer;
      const tick = async () => {
        if (!active) return;
        let again = true;
        try {
          again = (await fn()) !== false;
        } catch {
          again = true;
        }
        if (active && again) timer = setTimeout(tick, ms);
      };
      timer = setTimeout(tick, ms);
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
    await match[1](ctx);
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
        h('p', null, error?.message ?? String(error)),
      ),
    );
  }
}

window.addEventListener('hashchange', render);
// In parallel: with a function key both wait for the same prompt.
showWho();
render();
