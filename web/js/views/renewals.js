// @ts-check
// Right-size before renewal: per subscription renewing soon, the seats to cut before its deadline and the money
// per term, with the reclaimable holders one click away; and a license's next recommendation on its page.
import { insights as insightsApi, licenses as licensesApi, listPath, portals as portalsApi } from '../api.js';
import { downloadLink } from '../download.js';
import { badge, formatNumber, h, listen, plural, replaceChildren } from '../dom.js';
import { errorBox, errorText, loading, pageHeader } from './common.js';
import { money } from './license-insights.js';

/** @typedef {import('../api.js').RenewalItem} RenewalItem */
/** @typedef {import('../api.js').RenewalSettings} RenewalSettings */
/** @typedef {import('../api.js').Term} Term */
/** @typedef {import('../api.js').WasteItem} WasteItem */
/** @typedef {import('../api.js').License} License */

const DAY_MS = 86_400_000;
const WINDOWS = [30, 45, 60, 90, 180, 365];
/** @type {Record<Term, string>} */
const TERM_LABEL = { month: 'Monthly', year: 'Yearly', threeYears: 'Three years' };

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

/** @param {string} iso */
function daysLeft(iso) {
  return Math.ceil((Date.parse(iso) - Date.now()) / DAY_MS);
}

/** The deadline: the day, and how many days are left (red within two weeks, amber within 45 days). */
function deadline(/** @type {string} */ iso) {
  const left = daysLeft(iso);
  const tone = left <= 14 ? 'error' : left <= 45 ? 'warning' : 'neutral';
  return h(
    'span',
    { class: 'deadline' },
    h('time', { datetime: iso }, dayFormat.format(new Date(iso))),
    ' ',
    badge(left <= 0 ? 'today' : `in ${plural(left, 'day')}`, tone),
  );
}

/** @param {RenewalItem} item */
function savings(item) {
  if (item.savingsPerTerm === undefined || !item.currency) return h('span', { class: 'muted' }, 'no price');
  return item.seatsToCut > 0
    ? h('strong', null, money(item.savingsPerTerm, item.currency))
    : money(item.savingsPerTerm, item.currency);
}

/** Links to the license's holders of one kind (the license page filters them), or a muted 0. */
function holdersLink(/** @type {string} */ licenseId, /** @type {'disabled' | 'inactive'} */ kind, count = 0) {
  if (count === 0) return null;
  return h(
    'a',
    { href: `#/licenses/${encodeURIComponent(licenseId)}?holders=${kind}`, title: `Show the ${kind} holders` },
    `${formatNumber(count)} ${kind}`,
  );
}

/**
 * The term of a subscription: shown, marked when inferred, and (admins) changed in place.
 * @param {import('../../app.js').ViewContext} ctx
 * @param {RenewalItem} item
 */
function termCell(ctx, item) {
  const select = h(
    'select',
    { 'aria-label': `Term of subscription ${item.subscriptionId}`, 'data-admin': true, class: 'term-select' },
    h(
      'option',
      { value: '', selected: !!item.termInferred },
      item.termInferred ? `${TERM_LABEL[item.term]} (inferred)` : 'Inferred from its dates',
    ),
    ...Object.entries(TERM_LABEL).map(([value, label]) =>
      h('option', { value, selected: !item.termInferred && item.term === value }, label),
    ),
  );
  listen(select, 'change', async () => {
    try {
      if (select.value === '') await insightsApi.clearTerm(item.subscriptionId);
      else await insightsApi.setTerm(item.subscriptionId, /** @type {Term} */ (select.value));
      ctx.toast('Term saved.', 'success');
      ctx.navigate(`#/renewals${location.hash.includes('?') ? `?${location.hash.split('?')[1]}` : ''}`);
    } catch (error) {
      ctx.toast(errorText(error), 'error');
    }
  });
  return h(
    'td',
    null,
    h(
      'span',
      { class: 'term-text' },
      TERM_LABEL[item.term],
      item.termInferred ? h('span', { class: 'muted small' }, ' (inferred)') : null,
    ),
    select,
  );
}

/**
 * The buffer settings: shown, and (admins) changed.
 * @param {import('../../app.js').ViewContext} ctx
 * @param {RenewalSettings} settings
 */
function settingsForm(ctx, settings) {
  const percent = h('input', {
    type: 'number',
    min: 0,
    max: 100,
    step: 'any',
    name: 'bufferPercent',
    value: String(settings.bufferPercent),
  });
  const minimum = h('input', { type: 'number', min: 0, step: 1, name: 'bufferMin', value: String(settings.bufferMin) });
  const status = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'price-form', 'data-admin': true, 'aria-label': 'Buffer' },
    h('label', { class: 'inline-field' }, h('span', null, 'Buffer %'), percent),
    h('label', { class: 'inline-field' }, h('span', null, 'At least (seats)'), minimum),
    h('button', { type: 'submit', class: 'btn' }, 'Save buffer'),
    status,
  );
  listen(form, 'submit', async (event) => {
    event.preventDefault();
    status.hidden = true;
    try {
      await insightsApi.saveRenewalSettings({
        bufferPercent: Number(percent.value),
        bufferMin: Number(minimum.value),
      });
      ctx.toast('Buffer saved.', 'success');
      ctx.navigate(location.hash);
    } catch (error) {
      status.textContent = errorText(error);
      status.hidden = false;
    }
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'buffer-title' },
    h('h2', { id: 'buffer-title' }, 'How many seats to keep'),
    h(
      'p',
      null,
      'Recommended seats = the plan’s active holders (neither disabled nor inactive) + a buffer of ',
      h(
        'strong',
        { id: 'buffer-text' },
        `${settings.bufferPercent} % (at least ${plural(settings.bufferMin, 'seat')})`,
      ),
      ', split across the plan’s subscriptions: those renewing later keep their seats, the one renewing first gives back what the others already cover.',
    ),
    form,
  );
}

/** @type {import('../../app.js').View} */
export async function renewalsView(ctx) {
  ctx.setTitle('Renewals');
  const { root } = ctx;
  const asked = Number(ctx.query.get('days'));
  const withinDays = WINDOWS.includes(asked) ? asked : 90;
  const done = loading(root);
  let items, settings, waste, licenseList, portalList;
  try {
    [items, settings, waste, licenseList, portalList] = await Promise.all([
      insightsApi.renewals({ withinDays }),
      insightsApi.renewalSettings(),
      insightsApi.waste(),
      licensesApi.list(),
      portalsApi.list(),
    ]);
  } finally {
    done();
  }
  if (!ctx.isActive()) return;
  const licenseName = new Map(licenseList.map((l) => [l.id, l.name]));
  const portalName = new Map(portalList.map((p) => [p.id, p.name]));
  /** @type {Map<string, WasteItem>} */
  const holdersOf = new Map(waste.items.map((w) => [w.licenseId, w]));
  const picker = h(
    'select',
    { id: 'renewals-window' },
    ...WINDOWS.map((d) => h('option', { value: String(d), selected: d === withinDays }, `${d} days`)),
  );
  picker.addEventListener('change', () => ctx.navigate(`#/renewals?days=${picker.value}`));
  root.append(
    pageHeader({
      title: 'Renewals',
      intro:
        'Microsoft’s commitments can usually only shrink at renewal: this is what each subscription could give back before its next renewal, and what that saves over its term. Soonest first.',
      actions: [downloadLink(listPath.renewals({ withinDays }), 'renewals')],
    }),
    h('p', { class: 'toolbar' }, h('label', { for: 'renewals-window' }, 'Renewing within '), picker),
    settingsForm(ctx, settings),
  );
  /** @type {Map<string, number>} */
  const totals = new Map();
  for (const item of items)
    if (item.currency && item.savingsPerTerm)
      totals.set(item.currency, (totals.get(item.currency) ?? 0) + item.savingsPerTerm);
  const toCut = items.reduce((sum, item) => sum + item.seatsToCut, 0);
  root.append(
    h(
      'section',
      { class: 'card', 'aria-label': 'Totals' },
      h(
        'div',
        { class: 'stats' },
        h(
          'div',
          { class: toCut > 0 ? 'stat stat-warning' : 'stat' },
          h('span', { class: 'stat-value' }, formatNumber(toCut)),
          h('span', { class: 'stat-label' }, `seats to cut in ${plural(items.length, 'renewal')}`),
        ),
        ...[...totals].map(([currency, amount]) =>
          h(
            'div',
            { class: 'stat' },
            h('span', { class: 'stat-value' }, money(amount, currency)),
            h('span', { class: 'stat-label' }, `saved over the terms (${currency})`),
          ),
        ),
      ),
    ),
  );
  if (items.length === 0) {
    root.append(h('p', { class: 'muted' }, `No subscription renews within ${withinDays} days.`));
    return;
  }
  const headers = [
    'Renews',
    'License',
    'Term',
    'Seats',
    'Active holders',
    'Recommended',
    'To cut',
    'Per term',
    'Reclaimable holders',
  ];
  root.append(
    h(
      'section',
      { class: 'card table-card' },
      h(
        'table',
        { class: 'table', id: 'renewals-table' },
        h('caption', { class: 'visually-hidden' }, `Subscriptions renewing within ${withinDays} days`),
        h('thead', null, h('tr', null, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          null,
          ...items.map((item) => {
            const held = holdersOf.get(item.licenseId);
            const links = [
              holdersLink(item.licenseId, 'disabled', held?.disabledHolders),
              holdersLink(item.licenseId, 'inactive', held?.inactiveHolders),
            ].filter((link) => link !== null);
            return h(
              'tr',
              { dataset: { subscriptionId: item.subscriptionId } },
              h('td', null, deadline(item.nextLifecycleAt)),
              h(
                'th',
                { scope: 'row' },
                h(
                  'a',
                  { href: `#/licenses/${encodeURIComponent(item.licenseId)}` },
                  licenseName.get(item.licenseId) ?? item.licenseId,
                ),
                h('div', { class: 'muted small' }, portalName.get(item.portalId) ?? item.portalId),
              ),
              termCell(ctx, item),
              h('td', { class: 'num' }, formatNumber(item.totalLicenses)),
              h('td', { class: 'num' }, `${formatNumber(item.activeHolders)} of ${formatNumber(item.holders)}`),
              h('td', { class: 'num' }, formatNumber(item.recommendedSeats)),
              h('td', { class: 'num' }, item.seatsToCut > 0 ? h('strong', null, formatNumber(item.seatsToCut)) : '0'),
              h('td', { class: 'num' }, savings(item)),
              h(
                'td',
                { class: 'holder-links' },
                links.length
                  ? links.flatMap((link, i) => (i ? [', ', link] : [link]))
                  : h('span', { class: 'muted' }, 'none'),
              ),
            );
          }),
        ),
      ),
    ),
  );
}

/**
 * A license's next recommendation (its soonest renewal within a year), for its page.
 * @param {License} license
 */
export function nextRecommendationCard(license) {
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'right-size-title' },
    h('h2', { id: 'right-size-title' }, 'Right-size before renewal'),
  );
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  card.append(body);
  insightsApi.renewals({ portalId: license.portalId, withinDays: 365 }).then(
    (items) => {
      const item = items.find((i) => i.licenseId === license.id);
      if (!item) {
        replaceChildren(body, h('p', { class: 'muted' }, 'No subscription of this plan renews within a year.'));
        return;
      }
      replaceChildren(
        body,
        h(
          'p',
          { class: 'next-recommendation' },
          'Next renewal: ',
          deadline(item.nextLifecycleAt),
          ` (${TERM_LABEL[item.term].toLowerCase()}${item.termInferred ? ', inferred' : ''}, ${plural(item.totalLicenses, 'seat')}). `,
          item.seatsToCut > 0
            ? h(
                'span',
                null,
                'Cut ',
                h('strong', null, plural(item.seatsToCut, 'seat')),
                ` to ${formatNumber(item.recommendedSeats)}`,
                item.savingsPerTerm !== undefined && item.currency
                  ? h(
                      'span',
                      null,
                      ', saving ',
                      h('strong', null, money(item.savingsPerTerm, item.currency)),
                      ' per term',
                    )
                  : null,
                '.',
              )
            : 'Nothing to cut: its seats are in use.',
        ),
        h(
          'p',
          { class: 'muted small' },
          `${formatNumber(item.activeHolders)} of ${formatNumber(item.holders)} holders are active. `,
          h('a', { href: '#/renewals' }, 'All renewals'),
        ),
      );
    },
    (error) => replaceChildren(body, errorBox(error, 'The recommendation could not be loaded')),
  );
  return card;
}
