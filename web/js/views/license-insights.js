// @ts-check
// A license's insights on its page: its subscriptions with the next renewal, a 12-month history chart (uPlot, with
// a table for screen readers) and its price (editable by admins).
import uPlot from '../../vendor/uplot.esm.js';
import { licenses as licensesApi, listPath } from '../api.js';
import { downloadLink } from '../download.js';
import { badge, button, formatNumber, h, listen, plural, replaceChildren, uid } from '../dom.js';
import { errorBox, errorText } from './common.js';

/** @typedef {import('../api.js').License} License */
/** @typedef {import('../api.js').LicenseSnapshot} LicenseSnapshot */
/** @typedef {import('../../app.js').ViewContext} ViewContext */

const DAY_MS = 86_400_000;

/** @param {number} amount @param {string} currency */
export function money(amount, currency) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
}

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
/** @param {string} iso */
function formatDay(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : dayFormat.format(at);
}
/** @param {string} iso */
function daysUntil(iso) {
  const days = Math.round((Date.parse(iso) - Date.now()) / DAY_MS);
  return days === 0 ? 'today' : days > 0 ? `in ${plural(days, 'day')}` : `${plural(-days, 'day')} ago`;
}

/** @param {License} license */
function subscriptionsCard(license) {
  const list = license.subscriptions ?? [];
  const soon = license.nextLifecycleAt && Date.parse(license.nextLifecycleAt) - Date.now() < 30 * DAY_MS;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'subscriptions-title' },
    h(
      'h2',
      { id: 'subscriptions-title' },
      'Subscriptions',
      license.trial ? h('span', null, ' ', badge('Trial', 'warning')) : null,
    ),
    license.nextLifecycleAt
      ? h(
          'p',
          { class: soon ? 'renewal renewal-soon' : 'renewal' },
          'Next renewal or expiry: ',
          h('strong', null, formatDay(license.nextLifecycleAt)),
          ` (${daysUntil(license.nextLifecycleAt)})`,
        )
      : h('p', { class: 'muted' }, 'No renewal or expiry date is scheduled.'),
    list.length === 0
      ? h(
          'p',
          { class: 'muted' },
          license.subscriptions ? 'Microsoft lists no subscription of this plan.' : 'Not read yet.',
        )
      : h(
          'table',
          { class: 'table' },
          h('caption', { class: 'visually-hidden' }, 'Subscriptions of this plan'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ...['Seats', 'Status', 'Trial', 'Next renewal or expiry', 'Created'].map((t) =>
                h('th', { scope: 'col' }, t),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            ...list.map((s) =>
              h(
                'tr',
                null,
                h('td', { class: 'num' }, formatNumber(s.totalLicenses)),
                h(
                  'td',
                  null,
                  badge(s.status, s.status === 'Enabled' ? 'success' : s.status === 'Deleted' ? 'neutral' : 'warning'),
                ),
                h('td', null, s.isTrial ? 'Trial' : '–'),
                h('td', null, s.nextLifecycleAt ? formatDay(s.nextLifecycleAt) : '–'),
                h('td', null, s.createdAt ? formatDay(s.createdAt) : '–'),
              ),
            ),
          ),
        ),
  );
}

const SERIES = /** @type {const} */ ([
  ['available', 'Available', '#2563eb'],
  ['consumedUnits', 'Consumed', '#dc2626'],
  ['assigned', 'Assigned', '#16a34a'],
]);

/** @param {LicenseSnapshot[]} items */
function historyTable(items) {
  return h(
    'table',
    { class: 'table' },
    h('caption', null, 'Daily values'),
    h(
      'thead',
      null,
      h('tr', null, h('th', { scope: 'col' }, 'Day'), ...SERIES.map(([, label]) => h('th', { scope: 'col' }, label))),
    ),
    h(
      'tbody',
      null,
      ...[...items]
        .reverse()
        .map((s) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, s.date),
            ...SERIES.map(([key]) => h('td', { class: 'num' }, formatNumber(s[key]))),
          ),
        ),
    ),
  );
}

/**
 * The history chart, drawn by uPlot; the same values are in a table (collapsed) for screen readers and keyboards.
 * @param {string} licenseId
 */
function historyCard(licenseId) {
  const titleId = uid('history');
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, 'The last 12 months'),
  );
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  card.append(body);
  licensesApi.history(licenseId).then(
    (items) => {
      if (items.length === 0) {
        replaceChildren(
          body,
          h('p', { class: 'muted' }, 'No history yet: a snapshot is kept after each successful run, one a day.'),
        );
        return;
      }
      const chartBox = h('div', { class: 'history-chart', role: 'img', 'aria-label': summary(items) });
      replaceChildren(
        body,
        chartBox,
        h(
          'details',
          { class: 'history-values' },
          h('summary', null, 'Show the values as a table'),
          historyTable(items),
        ),
        h('p', null, downloadLink(listPath.history(licenseId), 'history')),
      );
      const xs = items.map((s) => Date.parse(`${s.date}T00:00:00Z`) / 1000);
      /** @type {uPlot.AlignedData} */
      const data = [xs, ...SERIES.map(([key]) => items.map((s) => s[key]))];
      const width = Math.max(320, Math.min(900, chartBox.clientWidth || 720));
      new uPlot(
        {
          width,
          height: 260,
          series: [{}, ...SERIES.map(([, label, stroke]) => ({ label, stroke, width: 2 }))],
          axes: [{}, { label: 'Seats' }],
          scales: {
            // Always the last 12 months, so a young license's few days sit at the right end.
            x: { time: true, range: () => [Date.now() / 1000 - 365 * 86_400, Date.now() / 1000 + 86_400] },
            y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
          },
        },
        data,
        chartBox,
      );
    },
    (error) => replaceChildren(body, errorBox(error, 'The history could not be loaded')),
  );
  return card;
}

/** @param {LicenseSnapshot[]} items */
function summary(items) {
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return 'No history';
  return `History from ${first.date} to ${last.date}: available ${first.available} to ${last.available}, consumed ${first.consumedUnits} to ${last.consumedUnits}, assigned ${first.assigned} to ${last.assigned}.`;
}

/**
 * The price that applies, and (admins) a form for this license's own price.
 * @param {ViewContext} ctx
 * @param {License} license
 */
function priceCard(ctx, license) {
  const titleId = uid('price');
  const card = h('section', { class: 'card', 'aria-labelledby': titleId }, h('h2', { id: titleId }, 'Price'));
  const price = license.price;
  card.append(
    price && license.monthlyUnitPrice !== undefined && license.currency
      ? h(
          'p',
          { class: 'price-line' },
          h('strong', null, money(license.monthlyUnitPrice, license.currency)),
          ' per seat and month',
          price.period === 'year' ? ` (${price.amount} ${price.currency} a year)` : '',
          ' · ',
          h('strong', null, money(license.monthlyCost ?? 0, license.currency)),
          ' a month for ',
          formatNumber(license.available),
          ' seats · ',
          price.source === 'license' ? 'this license’s own price' : h('a', { href: '#/prices' }, 'the plan’s price'),
        )
      : h(
          'p',
          { class: 'muted' },
          'No price set. Set one for this license, or for the plan in ',
          h('a', { href: '#/prices' }, 'Prices'),
          '.',
        ),
  );
  const form = priceForm({
    initial: price?.source === 'license' ? price : undefined,
    submitText: 'Set this license’s price',
    onSubmit: async (body) => {
      await licensesApi.setPrice(license.id, body);
      ctx.toast('Price saved.', 'success');
      ctx.navigate(`#/licenses/${encodeURIComponent(license.id)}`);
    },
    onRemove:
      price?.source === 'license'
        ? async () => {
            await licensesApi.removePrice(license.id);
            ctx.toast('The license’s own price is removed.', 'success');
            ctx.navigate(`#/licenses/${encodeURIComponent(license.id)}`);
          }
        : undefined,
  });
  card.append(form);
  return card;
}

/**
 * A price form (amount, currency, period); shown to admins only.
 * @param {{ initial?: { amount: string, currency: string, period: 'month' | 'year' }, submitText: string,
 *   onSubmit: (body: import('../api.js').PriceInput) => Promise<void>, onRemove?: () => Promise<void> }} options
 */
export function priceForm({ initial, submitText, onSubmit, onRemove }) {
  const amount = h('input', {
    type: 'text',
    inputmode: 'decimal',
    name: 'amount',
    required: true,
    value: initial?.amount ?? '',
    size: 10,
  });
  const currency = h('input', {
    type: 'text',
    name: 'currency',
    required: true,
    value: initial?.currency ?? 'USD',
    size: 4,
    maxlength: 3,
    pattern: '[A-Za-z]{3}',
  });
  const period = h(
    'select',
    { name: 'period' },
    h('option', { value: 'month', selected: initial?.period !== 'year' }, 'per month'),
    h('option', { value: 'year', selected: initial?.period === 'year' }, 'per year'),
  );
  const status = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const labelled = (/** @type {string} */ text, /** @type {HTMLElement} */ input) =>
    h('label', { class: 'inline-field' }, h('span', null, text), input);
  const form = h(
    'form',
    { class: 'price-form', dataset: { admin: '' } },
    labelled('Amount per seat', amount),
    labelled('Currency', currency),
    labelled('Period', period),
    h('button', { type: 'submit', class: 'btn btn-primary' }, submitText),
    onRemove ? button('Remove', { class: 'btn btn-danger', onClick: () => void run(onRemove) }) : null,
    status,
  );
  /** @param {() => Promise<void>} action */
  const run = async (action) => {
    status.hidden = true;
    try {
      await action();
    } catch (error) {
      status.textContent = errorText(error);
      status.hidden = false;
    }
  };
  listen(form, 'submit', async (event) => {
    event.preventDefault();
    await run(() =>
      onSubmit({
        amount: amount.value.trim(),
        currency: currency.value.trim(),
        period: period.value === 'year' ? 'year' : 'month',
      }),
    );
  });
  return form;
}

/**
 * The insight sections of a license's page.
 * @param {ViewContext} ctx
 * @param {License} license
 */
export function licenseInsightSections(ctx, license) {
  return [subscriptionsCard(license), historyCard(license.id), priceCard(ctx, license)];
}
