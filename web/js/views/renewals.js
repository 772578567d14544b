// @ts-check
// Right-size before renewal: per subscription renewing soon, the seats to cut before its deadline and the money
// per term, with the reclaimable holders one click away; trials and subscriptions that will not renew labelled.
import { insights as insightsApi, licenses as licensesApi, listPath, portals as portalsApi } from '../api.js';
import { downloadLink } from '../download.js';
import { badge, formatNumber, h, listen, plural } from '../dom.js';
import { errorText, loading, pageHeader } from './common.js';
import { money } from './license-insights.js';
import { deadline, notRenewing, TERM_LABEL } from './renewal-card.js';

/** @typedef {import('../api.js').RenewalItem} RenewalItem */
/** @typedef {import('../api.js').RenewalSettings} RenewalSettings */
/** @typedef {import('../api.js').Term} Term */
/** @typedef {import('../api.js').WasteItem} WasteItem */

const WINDOWS = [30, 45, 60, 90, 180, 365];

/**
 * @param {RenewalItem} item
 * @param {ReturnType<typeof notRenewing>} lapsing
 */
function savings(item, lapsing) {
  // Its seats go at its date anyway (a trial's cost nothing): nothing is saved by cutting them.
  if (lapsing) return h('span', { class: 'muted' }, 'nothing to save');
  if (item.savingsPerTerm === undefined || !item.currency) return h('span', { class: 'muted' }, 'no price');
  return item.seatsToCut > 0
    ? h('strong', null, money(item.savingsPerTerm, item.currency))
    : money(item.savingsPerTerm, item.currency);
}

/**
 * The seats to cut, or none to cut when they lapse at the date anyway (the server's figure is then all of them).
 * @param {RenewalItem} item
 * @param {ReturnType<typeof notRenewing>} lapsing
 */
function toCutCell(item, lapsing) {
  if (lapsing) return h('span', { class: 'muted', title: 'Its seats go at its date anyway' }, '–');
  return item.seatsToCut > 0 ? h('strong', null, formatNumber(item.seatsToCut)) : '0';
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
      ', split across the plan’s subscriptions that will renew: those renewing later keep their seats, the one renewing first gives back what the others already cover. A trial, or an expired, suspended or locked-out subscription, counts for none: its seats go at its date.',
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
  const licenseById = new Map(licenseList.map((l) => [l.id, l]));
  /** Why each item's subscription will not renew (undefined when it will), from its license's subscriptions. */
  const lapsingOf = new Map(
    items.map((item) => [item.subscriptionId, notRenewing(licenseById.get(item.licenseId), item.subscriptionId)]),
  );
  const renewing = items.filter((item) => !lapsingOf.get(item.subscriptionId));
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
  for (const item of renewing)
    if (item.currency && item.savingsPerTerm)
      totals.set(item.currency, (totals.get(item.currency) ?? 0) + item.savingsPerTerm);
  const toCut = renewing.reduce((sum, item) => sum + item.seatsToCut, 0);
  const left = items.length - renewing.length;
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
          h('span', { class: 'stat-label' }, `seats to cut in ${plural(renewing.length, 'renewal')}`),
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
      left > 0
        ? h(
            'p',
            { class: 'muted small', id: 'renewals-left-out' },
            `Left out of these totals: ${plural(left, 'subscription')} that will not renew (a trial, or expired, suspended or locked out); their seats go at their dates anyway.`,
          )
        : null,
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
            const lapsing = lapsingOf.get(item.subscriptionId);
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
                  licenseById.get(item.licenseId)?.name ?? item.licenseId,
                ),
                h('div', { class: 'muted small' }, portalName.get(item.portalId) ?? item.portalId),
                lapsing ? h('div', { class: 'not-renewing' }, badge(lapsing.text, lapsing.tone)) : null,
              ),
              termCell(ctx, item),
              h('td', { class: 'num' }, formatNumber(item.totalLicenses)),
              h('td', { class: 'num' }, `${formatNumber(item.activeHolders)} of ${formatNumber(item.holders)}`),
              h('td', { class: 'num' }, formatNumber(item.recommendedSeats)),
              h('td', { class: 'num' }, toCutCell(item, lapsing)),
              h('td', { class: 'num' }, savings(item, lapsing)),
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
