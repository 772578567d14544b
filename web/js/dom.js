// Small DOM helpers. Everything from the API goes in as text nodes or attribute values, never as markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (
      key === 'value' ||
      key === 'checked' ||
      key === 'selected' ||
      key === 'disabled' ||
      key === 'indeterminate'
    ) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/** h('button', { class: 'btn', onClick }, 'Save') */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idCounter = 0;
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const dateTimeShort = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const numberFormat = new Intl.NumberFormat();

export function formatNumber(value) {
  return typeof value === 'number' ? numberFormat.format(value) : '–';
}

export function formatDate(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTime.format(date);
}

/** "3 min ago", for recent moments; the exact time goes into the <time> element's title. */
export function formatRelative(iso, now = Date.now()) {
  if (!iso) return '–';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return String(iso);
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 0) return formatDate(iso);
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return formatDate(iso);
}

/** A <time>: relative ("3 min ago"), short (no seconds) or full; the full moment is always in its title. */
export function timeEl(iso, style = 'full') {
  if (!iso) return h('span', { class: 'muted' }, '–');
  const date = new Date(iso);
  const text =
    style === true || style === 'relative'
      ? formatRelative(iso)
      : style === 'short' && !Number.isNaN(date.getTime())
        ? dateTimeShort.format(date)
        : formatDate(iso);
  return h('time', { datetime: iso, title: formatDate(iso) }, text);
}

export function formatDuration(startIso, endIso) {
  if (!startIso) return '–';
  const ms = (endIso ? new Date(endIso) : new Date()).getTime() - new Date(startIso).getTime();
  if (Number.isNaN(ms) || ms < 0) return '–';
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function plural(count, one, many = `${one}s`) {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

/** A status pill; the text always says the status, colour only repeats it. */
export function badge(text, tone = 'neutral', title) {
  return h('span', { class: `badge badge-${tone}`, title }, text);
}

/** A labelled on/off switch (a checkbox with role=switch, so screen readers say "on"/"off"). */
export function toggle({ label, checked, disabled, onChange, showLabel = false }) {
  const input = h('input', {
    type: 'checkbox',
    role: 'switch',
    class: 'switch-input',
    checked,
    // A reader sees the state but cannot flip it (app.js sets data-can-change from /api/me).
    disabled: disabled || document.body.dataset.canChange === 'false',
    'aria-label': showLabel ? undefined : label,
  });
  const wrap = h(
    'label',
    { class: 'switch' },
    input,
    h('span', { class: 'switch-track', 'aria-hidden': 'true' }),
    showLabel
      ? h('span', { class: 'switch-text' }, label)
      : h('span', { class: 'switch-state', 'aria-hidden': 'true' }, checked ? 'On' : 'Off'),
  );
  input.addEventListener('change', async () => {
    const next = input.checked;
    input.disabled = true;
    const state = wrap.querySelector('.switch-state');
    if (state) state.textContent = next ? 'On' : 'Off';
    try {
      await onChange(next);
    } catch {
      input.checked = !next;
      if (state) state.textContent = !next ? 'On' : 'Off';
    } finally {
      input.disabled = Boolean(disabled);
    }
  });
  return wrap;
}

/** An inline message box. tone: info | success | warning | error. Errors are announced (role=alert). */
export function alertBox(tone, title, ...body) {
  return h(
    'div',
    { class: `alert alert-${tone}`, role: tone === 'error' ? 'alert' : 'status' },
    title ? h('p', { class: 'alert-title' }, title) : null,
    ...body.map((part) => (typeof part === 'string' ? h('p', null, part) : part)),
  );
}

export function button(text, props = {}) {
  return h('button', { type: 'button', class: 'btn', ...props }, text);
}

export function spinner(label) {
  return h('span', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label);
}
