// @ts-check
// Small DOM helpers. Everything from the API goes in as text nodes or attribute values, never as markup.

/** @typedef {Node | string | number | null | undefined | false} Leaf */
/**
 * What h() and s() accept as children: nodes, text (numbers too), nothing (null, undefined, false), or lists of
 * those two levels deep (JSDoc cannot say "any depth").
 * @typedef {Leaf | ReadonlyArray<Leaf | ReadonlyArray<Leaf>>} Child
 */
/**
 * Attributes and properties: functions (onClick, ...) become listeners, an object (dataset) fills data-*,
 * value/checked/selected/disabled/indeterminate are set as properties, anything else as an attribute (true:
 * present; null, undefined, false: left out).
 * @typedef {Record<string, string | number | boolean | null | undefined | ((event: Event) => unknown)
 *   | Record<string, string>>} Props
 */
/** @typedef {'neutral' | 'info' | 'success' | 'warning' | 'error'} Tone */

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPERTIES = new Set(['value', 'checked', 'selected', 'disabled', 'indeterminate']);

/**
 * @param {Node} parent
 * @param {readonly Child[]} children
 */
function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (child instanceof Node) parent.appendChild(child);
    else if (typeof child === 'string' || typeof child === 'number')
      parent.appendChild(document.createTextNode(String(child)));
    else append(parent, child);
  }
}

/**
 * @param {HTMLElement} el
 * @param {Props | null | undefined} props
 */
function setProps(el, props) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') {
      el.addEventListener(key.replace(/^on/, '').toLowerCase(), value);
    } else if (typeof value === 'object') {
      Object.assign(el.dataset, value);
    } else if (PROPERTIES.has(key)) {
      Object.assign(el, { [key]: value });
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/**
 * h('button', { class: 'btn', onClick }, 'Save')
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/**
 * An SVG element: every prop is an attribute.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/**
 * @template {Element} E
 * @param {E} el
 * @param {...Child} children
 * @returns {E}
 */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idCounter = 0;
/** @param {string} [prefix] */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const dateTimeShort = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const numberFormat = new Intl.NumberFormat();

/** @param {unknown} value */
export function formatNumber(value) {
  return typeof value === 'number' ? numberFormat.format(value) : '–';
}

/** @param {string | undefined} iso */
export function formatDate(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTime.format(date);
}

/**
 * "3 min ago", for recent moments; the exact time goes into the <time> element's title.
 * @param {string | undefined} iso
 * @param {number} [now]
 */
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

/**
 * A <time>: relative ("3 min ago"), short (no seconds) or full; the full moment is always in its title.
 * @param {string | undefined} iso
 * @param {'full' | 'short' | 'relative' | true} [style]
 */
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

/**
 * @param {string | undefined} startIso
 * @param {string | undefined} endIso
 */
export function formatDuration(startIso, endIso) {
  if (!startIso) return '–';
  const ms = (endIso ? new Date(endIso) : new Date()).getTime() - new Date(startIso).getTime();
  if (Number.isNaN(ms) || ms < 0) return '–';
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/**
 * @param {number} count
 * @param {string} one
 * @param {string} [many]
 */
export function plural(count, one, many = `${one}s`) {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

/**
 * A status pill; the text always says the status, colour only repeats it.
 * @param {string} text
 * @param {Tone} [tone]
 * @param {string} [title]
 */
export function badge(text, tone = 'neutral', title) {
  return h('span', { class: `badge badge-${tone}`, title }, text);
}

/**
 * A labelled on/off switch (a checkbox with role=switch, so screen readers say "on"/"off"). When onChange
 * rejects, the switch goes back.
 * @param {{ label: string, checked: boolean, disabled?: boolean,
 *   onChange: (checked: boolean) => Promise<void>, showLabel?: boolean }} options
 */
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
  listen(input, 'change', async () => {
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

/**
 * An inline message box. Errors are announced (role=alert); a string in the body becomes a paragraph.
 * @param {Exclude<Tone, 'neutral'>} tone
 * @param {string | null} title
 * @param {...Child} body
 */
export function alertBox(tone, title, ...body) {
  return h(
    'div',
    { class: `alert alert-${tone}`, role: tone === 'error' ? 'alert' : 'status' },
    title ? h('p', { class: 'alert-title' }, title) : null,
    ...body.map((part) => (typeof part === 'string' ? h('p', null, part) : part)),
  );
}

/**
 * @param {string} text
 * @param {Props} [props]
 */
export function button(text, props = {}) {
  return h('button', { type: 'button', class: 'btn', ...props }, text);
}

/** @param {string} label */
export function spinner(label) {
  return h('span', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label);
}

/**
 * The element of index.html with this id, of this type (anything else is a bug in the page, said at once).
 * @template {HTMLElement} E
 * @param {string} id
 * @param {new () => E} type
 * @returns {E}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`The page has no ${type.name} with the id "${id}".`);
  return el;
}

/**
 * Listens with an async handler: it shows its own errors, nothing waits for it.
 * @template {keyof HTMLElementEventMap} K
 * @param {HTMLElement} target
 * @param {K} type
 * @param {(event: HTMLElementEventMap[K]) => Promise<void>} handler
 */
export function listen(target, type, handler) {
  target.addEventListener(type, (event) => void handler(event));
}
