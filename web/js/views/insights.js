// @ts-check
// The insight views across portals: waste ranked by reclaimable money, the licensed-users figure by month, prices.
import {
  insights as insightsApi,
  licenses as licensesApi,
  listPath,
  portals as portalsApi,
  prices as pricesApi,
} from '../api.js';
import { downloadLink } from '../download.js';
import { formatNumber, h } from '../dom.js';
import { loading, pageHeader } from './common.js';
import { money, priceForm } from './license-insights.js';

/** @typedef {import('../api.js').WasteItem} WasteItem */

/**
 * A number that opens the license's holders of that kind (one click from the ranking to the people).
 * @param {WasteItem} item
 * @param {'disabled' | 'inactive' | 'guest'} kind
 * @param {number} count
 */
function holdersLink(item, kind, count) {
  if (count === 0) return h('span', { class: 'muted' }, '0');
  return h(
    'a',
    { href: `#/licenses/${encodeURIComponent(item.licenseId)}?holders=${kind}`, title: `Show the ${kind} holders` },
    formatNumber(count),
  );
}

/** @type {import('../../app.js').View} */
export async function wasteView(ctx) {
  ctx.setTitle('Waste');
  const { root } = ctx;
  const done = loading(root);
  let report;
  let portalList;
  try {
    [report, portalList] = await Promise.all([insightsApi.waste(), portalsApi.list()]);
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  const portalName = new Map(portalList.map((p) => [p.id, p.name]));
  root.append(
    pageHeader({
      title: 'Waste',
      intro:
        'Seats paid for and not used: unassigned seats, and holders whose accounts are disabled or who have not signed in for the portal’s inactive days. Ranked by the money a month they could save (by seats where no price is set).',
    }),
  );
  const totals = Object.entries(report.totals);
  if (totals.length > 0)
    root.append(
      h(
        'section',
        { class: 'card', 'aria-label': 'Totals' },
        h(
          'div',
          { class: 'stats' },
          ...totals.flatMap(([currency, t]) => [
            h(
              'div',
              { class: 'stat' },
              h('span', { class: 'stat-value' }, money(t.monthlyCost, currency)),
              h('span', { class: 'stat-label' }, `a month (${currency})`),
            ),
            h(
              'div',
              { class: 'stat stat-warning' },
              h('span', { class: 'stat-value' }, money(t.reclaimableMonthly, currency)),
              h('span', { class: 'stat-label' }, `reclaimable a month (${currency})`),
            ),
          ]),
        ),
      ),
    );
  const headers = [
    'License',
    'Portal',
    'Unassigned',
    'Disabled',
    'Inactive',
    'Guests',
    'Per seat',
    'Reclaimable a month',
  ];
  root.append(
    h(
      'section',
      { class: 'card table-card' },
      h(
        'table',
        { class: 'table', id: 'waste-table' },
        h('caption', { class: 'visually-hidden' }, 'Waste per license'),
        h('thead', null, h('tr', null, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          null,
          ...report.items.map((item) =>
            h(
              'tr',
              null,
              h(
                'th',
                { scope: 'row' },
                h('a', { href: `#/licenses/${encodeURIComponent(item.licenseId)}` }, item.licenseName),
              ),
              h('td', null, portalName.get(item.portalId) ?? item.portalId),
              h('td', { class: 'num' }, formatNumber(item.unassigned)),
              h('td', { class: 'num' }, holdersLink(item, 'disabled', item.disabledHolders)),
              h('td', { class: 'num' }, holdersLink(item, 'inactive', item.inactiveHolders)),
              h('td', { class: 'num' }, holdersLink(item, 'guest', item.guestHolders)),
              h(
                'td',
                { class: 'num' },
                item.currency && item.monthlyUnitPrice !== undefined
                  ? money(item.monthlyUnitPrice, item.currency)
                  : h('span', { class: 'muted' }, 'no price'),
              ),
              h(
                'td',
                { class: 'num' },
                item.currency && item.reclaimableMonthly !== undefined
                  ? h('strong', null, money(item.reclaimableMonthly, item.currency))
                  : `${formatNumber(item.unassigned + item.disabledHolders + item.inactiveHolders)} seats`,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/** @param {Date} at */
function monthOf(at) {
  return at.toISOString().slice(0, 7);
}

/** @type {import('../../app.js').View} */
export async function licensedUsersView(ctx) {
  ctx.setTitle('Licensed users');
  const { root } = ctx;
  const month = /^\d{4}-\d{2}$/.test(ctx.query.get('month') ?? '')
    ? /** @type {string} */ (ctx.query.get('month'))
    : monthOf(new Date());
  const picker = h('input', { type: 'month', id: 'report-month', value: month });
  picker.addEventListener('change', () => ctx.navigate(`#/reports/licensed-users?month=${picker.value}`));
  root.append(
    pageHeader({
      title: 'Licensed users',
      intro:
        'People holding at least one plan, per portal, each counted once across plans (guests and disabled accounts too): the highest daily count of the month and the latest. What a service provider bills by.',
    }),
    h(
      'p',
      { class: 'toolbar' },
      h('label', { for: 'report-month' }, 'Month '),
      picker,
      ' ',
      downloadLink(listPath.licensedUsers(month), 'licensed users'),
    ),
  );
  const done = loading(root);
  let items;
  try {
    items = await insightsApi.licensedUsers(month);
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  root.append(
    items.length === 0
      ? h('p', { class: 'muted' }, 'No data for this month: a figure is kept after each successful run.')
      : h(
          'section',
          { class: 'card table-card' },
          h(
            'table',
            { class: 'table', id: 'licensed-users-table' },
            h('caption', { class: 'visually-hidden' }, `Licensed users in ${month}`),
            h(
              'thead',
              null,
              h('tr', null, ...['Portal', 'Month', 'Peak', 'Latest'].map((t) => h('th', { scope: 'col' }, t))),
            ),
            h(
              'tbody',
              null,
              ...items.map((item) =>
                h(
                  'tr',
                  null,
                  h(
                    'th',
                    { scope: 'row' },
                    h('a', { href: `#/portals/${encodeURIComponent(item.portalId)}` }, item.portalName),
                  ),
                  h('td', null, item.month),
                  h('td', { class: 'num' }, formatNumber(item.peakLicensedUsers)),
                  h('td', { class: 'num' }, formatNumber(item.lastLicensedUsers)),
                ),
              ),
            ),
          ),
        ),
  );
}

/** @type {import('../../app.js').View} */
export async function pricesView(ctx) {
  ctx.setTitle('Prices');
  const { root } = ctx;
  const done = loading(root);
  let prices;
  let licenseList;
  try {
    [prices, licenseList] = await Promise.all([pricesApi.list(), licensesApi.list()]);
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  // One row per plan the ledger knows, named by its licenses' plan name.
  /** @type {Map<string, { name: string, part: string }>} */
  const plans = new Map();
  for (const license of licenseList)
    plans.set(license.skuId, { name: license.displayName, part: license.skuPartNumber });
  const priced = new Map(prices.map((p) => [p.skuId, p]));
  for (const p of prices) if (!plans.has(p.skuId)) plans.set(p.skuId, { name: p.skuId, part: '' });
  root.append(
    pageHeader({
      title: 'Prices',
      intro:
        'What a seat of each plan costs you, for every portal (a license can override it on its page). Kept in this app only, never sent to Microsoft; a yearly price counts a twelfth a month; currencies are never converted.',
      actions: [downloadLink(listPath.prices(), 'prices')],
    }),
  );
  const rows = [...plans]
    .sort((a, b) => a[1].name.localeCompare(b[1].name))
    .map(([skuId, plan]) => {
      const price = priced.get(skuId);
      return h(
        'tr',
        { dataset: { skuId } },
        h('th', { scope: 'row' }, plan.name, plan.part ? h('div', { class: 'muted small mono' }, plan.part) : null),
        h(
          'td',
          null,
          price ? `${price.amount} ${price.currency} per ${price.period}` : h('span', { class: 'muted' }, 'no price'),
        ),
        h(
          'td',
          null,
          priceForm({
            initial: price,
            submitText: 'Save',
            onSubmit: async (body) => {
              await pricesApi.set(skuId, body);
              ctx.toast('Price saved.', 'success');
              ctx.navigate('#/prices');
            },
            onRemove: price
              ? async () => {
                  await pricesApi.remove(skuId);
                  ctx.toast('Price removed.', 'success');
                  ctx.navigate('#/prices');
                }
              : undefined,
          }),
        ),
      );
    });
  root.append(
    h(
      'section',
      { class: 'card table-card' },
      h(
        'table',
        { class: 'table', id: 'prices-table' },
        h('caption', { class: 'visually-hidden' }, 'Prices per plan'),
        h('thead', null, h('tr', null, ...['Plan', 'Price', 'Change'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, ...rows),
      ),
    ),
  );
}
