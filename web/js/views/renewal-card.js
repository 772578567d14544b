// @ts-check
// What the Renewals view and a license's page share: the deadline, the term's words, whether a subscription will
// renew at all; and the license page's card with its next recommendation.
import { insights as insightsApi } from '../api.js';
import { badge, formatNumber, h, plural, replaceChildren } from '../dom.js';
import { errorBox } from './common.js';
import { money } from './license-insights.js';

/** @typedef {import('../api.js').RenewalItem} RenewalItem */
/** @typedef {import('../api.js').Term} Term */
/** @typedef {import('../api.js').License} License */

const DAY_MS = 86_400_000;
/** @type {Record<Term, string>} */
export const TERM_LABEL = { month: 'Monthly', year: 'Yearly', threeYears: 'Three years' };

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

/** The deadline: the day, and how many days are left (red within two weeks, amber within 45 days). */
export function deadline(/** @type {string} */ iso) {
  const left = Math.ceil((Date.parse(iso) - Date.now()) / DAY_MS);
  const tone = left <= 14 ? 'error' : left <= 45 ? 'warning' : 'neutral';
  return h(
    'span',
    { class: 'deadline' },
    h('time', { datetime: iso }, dayFormat.format(new Date(iso))),
    ' ',
    badge(left <= 0 ? 'today' : `in ${plural(left, 'day')}`, tone),
  );
}

/**
 * Why a subscription will not renew, in words (its license carries its status and isTrial), or undefined when it
 * will (Enabled, paid). Its seats lapse at its date whatever is cut, so it saves nothing: the server recommends it
 * no seats (all "to cut") and raises no alert for it; the views label it and leave it out of their totals.
 * @param {License | undefined} license
 * @param {string} subscriptionId
 * @returns {{ text: string, tone: 'info' | 'warning' } | undefined}
 */
export function notRenewing(license, subscriptionId) {
  const subscription = license?.subscriptions?.find((s) => s.id === subscriptionId);
  if (!subscription) return undefined;
  if (subscription.isTrial) return { text: 'Trial: seats cost nothing', tone: 'info' };
  switch (subscription.status) {
    case 'Enabled':
      return undefined;
    case 'Warning':
      return { text: 'Expired, in grace period', tone: 'warning' };
    case 'Suspended':
      return { text: 'Suspended: will not renew', tone: 'warning' };
    case 'LockedOut':
      return { text: 'Locked out: will not renew', tone: 'warning' };
    default:
      return { text: `${subscription.status}: will not renew`, tone: 'warning' };
  }
}

/** @param {RenewalItem} item */
function recommendation(item) {
  return h(
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
            ? h('span', null, ', saving ', h('strong', null, money(item.savingsPerTerm, item.currency)), ' per term')
            : null,
          '.',
        )
      : 'Nothing to cut: its seats are in use.',
  );
}

/**
 * A license's next recommendation (its soonest subscription that renews within a year), and its subscriptions in
 * that year that will not renew, labelled, for its page.
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
    (all) => {
      const items = all.filter((i) => i.licenseId === license.id);
      const renewing = items.find((i) => !notRenewing(license, i.subscriptionId));
      const lapsing = items.flatMap((item) => {
        const why = notRenewing(license, item.subscriptionId);
        return why
          ? [
              h(
                'p',
                { class: 'not-renewing' },
                badge(why.text, why.tone),
                ` ${plural(item.totalLicenses, 'seat')} until `,
                deadline(item.nextLifecycleAt),
                ': nothing to cut or save.',
              ),
            ]
          : [];
      });
      replaceChildren(
        body,
        renewing
          ? recommendation(renewing)
          : h('p', { class: 'muted' }, 'No subscription of this plan renews within a year.'),
        ...lapsing,
        items[0]
          ? h(
              'p',
              { class: 'muted small' },
              `${formatNumber(items[0].activeHolders)} of ${formatNumber(items[0].holders)} holders are active. `,
              h('a', { href: '#/renewals' }, 'All renewals'),
            )
          : null,
      );
    },
    (error) => replaceChildren(body, errorBox(error, 'The recommendation could not be loaded')),
  );
  return card;
}
