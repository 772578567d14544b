import { recordChange } from '../domain/audit';
import { pageOfSorted } from '../domain/paging';
import { DEFAULT_WITHIN_DAYS, type RenewalItem } from '../insights/renewals';
import type { Controller } from './http';
import { pagedListController } from './lists';
import {
  listRenewalsEndpoint,
  type deleteTermEndpoint,
  type getRenewalSettingsEndpoint,
  type putRenewalSettingsEndpoint,
  type putTermEndpoint,
} from './renewalEndpoints';
import * as renewals from './renewals';
import { RENEWAL_PAGE_SIZE } from './renewalSchemas';

/** Controllers of the right-size routes: one use case each. */

/** Soonest first, then by portal and subscription: the order the pages follow. */
const keyOf = (item: RenewalItem): [string, string] => [
  String(Date.parse(item.nextLifecycleAt)).padStart(16, '0'),
  `${item.portalId}/${item.subscriptionId}`,
];
const byKey = (a: [string, string], b: [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** Computed whole (a few items per license), then paged like the other lists. */
export const listRenewalsController = pagedListController(listRenewalsEndpoint, async ({ query }, services, cursor) => {
  const items = await renewals.listRenewals(services, {
    ...(query.portalId ? { portalId: query.portalId } : {}),
    withinDays: query.withinDays === undefined ? DEFAULT_WITHIN_DAYS : Number(query.withinDays),
  });
  const sorted = items.sort((a, b) => byKey(keyOf(a), keyOf(b)));
  return pageOfSorted(
    sorted,
    {
      limit: cursor.limit ?? RENEWAL_PAGE_SIZE,
      ...(cursor.continuationToken !== undefined ? { continuationToken: cursor.continuationToken } : {}),
    },
    keyOf,
    byKey,
  );
});

const TERM_TEXT = { month: 'monthly', year: 'yearly', threeYears: 'three-year' } as const;

export const putTermController: Controller<typeof putTermEndpoint> = async ({ params, body, principal }, services) => {
  const stored = await renewals.setTerm(services, params.id, body.term);
  await recordChange(services, principal, {
    action: 'subscription.term.set',
    target: `subscriptions/${params.id}/term`,
    summary: `Set the subscription's term to ${TERM_TEXT[body.term]}`,
  });
  return { status: 200, body: stored };
};

export const deleteTermController: Controller<typeof deleteTermEndpoint> = async ({ params, principal }, services) => {
  await renewals.clearTerm(services, params.id);
  await recordChange(services, principal, {
    action: 'subscription.term.delete',
    target: `subscriptions/${params.id}/term`,
    summary: "Removed the subscription's term: it is inferred from its dates again",
  });
  return { status: 204 };
};

export const getRenewalSettingsController: Controller<typeof getRenewalSettingsEndpoint> = async (
  _input,
  services,
) => ({ status: 200, body: await renewals.renewalSettings(services) });

export const putRenewalSettingsController: Controller<typeof putRenewalSettingsEndpoint> = async (
  { body, principal },
  services,
) => {
  const stored = await renewals.putRenewalSettings(services, body);
  await recordChange(services, principal, {
    action: 'renewals.settings.set',
    target: 'insights/renewals/settings',
    summary: `Set the right-size buffer to ${stored.bufferPercent} % and at least ${stored.bufferMin} seats`,
  });
  return { status: 200, body: stored };
};
