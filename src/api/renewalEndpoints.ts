import { z } from 'zod';
import { defineEndpoint, type Endpoint } from './endpoint';
import { defineListEndpoint } from './lists';
import {
  renewalItemSchema,
  renewalListQuery,
  renewalListSchema,
  renewalSettingsBodySchema,
  subscriptionParams,
  termBodySchema,
  termSchema,
} from './renewalSchemas';
import { bad, notFound } from './responses';
import { emptyQuery } from './schemas';

/** The right-size routes (PRODUCT.md, "Right-size before renewal"). */

const noParams = z.strictObject({});

export const listRenewalsEndpoint = defineListEndpoint({
  name: 'insightsRenewals',
  method: 'GET',
  route: 'api/insights/renewals',
  tag: 'insights',
  role: 'Reader',
  summary: 'Seats to cut before each subscription renews',
  description:
    "One item per subscription (not Deleted) renewing within the window, soonest first: the plan's active holders plus the buffer, split across its subscriptions soonest-renewing last, and what cutting the rest saves over the term.",
  params: noParams,
  query: renewalListQuery,
  body: undefined,
  list: { file: 'renewals', item: renewalItemSchema },
  responses: {
    200: { description: 'The renewals, soonest first.', schema: renewalListSchema },
    400: bad(),
    404: notFound('The portal access'),
  },
});

export const putTermEndpoint = defineEndpoint({
  name: 'subscriptionsTermPut',
  method: 'PUT',
  route: 'api/subscriptions/{id}/term',
  tag: 'insights',
  role: 'Admin',
  summary: "Set a subscription's term (month, year or three years)",
  description: "Replaces the term inferred from the subscription's dates.",
  params: subscriptionParams,
  query: emptyQuery,
  body: termBodySchema,
  responses: {
    200: { description: 'The term as stored.', schema: termSchema },
    400: bad(),
    404: notFound('A license carrying this subscription'),
  },
});

export const deleteTermEndpoint = defineEndpoint({
  name: 'subscriptionsTermDelete',
  method: 'DELETE',
  route: 'api/subscriptions/{id}/term',
  tag: 'insights',
  role: 'Admin',
  summary: "Remove a subscription's set term (it is inferred again)",
  params: subscriptionParams,
  query: emptyQuery,
  body: undefined,
  responses: { 204: { description: 'Removed.' }, 400: bad(), 404: notFound('A term set for this subscription') },
});

export const getRenewalSettingsEndpoint = defineEndpoint({
  name: 'insightsRenewalsSettingsGet',
  method: 'GET',
  route: 'api/insights/renewals/settings',
  tag: 'insights',
  role: 'Reader',
  summary: 'The buffer right-size keeps above the active holders',
  description: 'Default: 5 % and at least 1 seat.',
  params: noParams,
  query: emptyQuery,
  body: undefined,
  responses: { 200: { description: 'The settings.', schema: renewalSettingsBodySchema }, 400: bad() },
});

export const putRenewalSettingsEndpoint = defineEndpoint({
  name: 'insightsRenewalsSettingsPut',
  method: 'PUT',
  route: 'api/insights/renewals/settings',
  tag: 'insights',
  role: 'Admin',
  summary: 'Set the buffer right-size keeps above the active holders',
  params: noParams,
  query: emptyQuery,
  body: renewalSettingsBodySchema,
  responses: { 200: { description: 'The settings as stored.', schema: renewalSettingsBodySchema }, 400: bad() },
});

export const renewalEndpoints: readonly Endpoint[] = [
  listRenewalsEndpoint,
  putTermEndpoint,
  deleteTermEndpoint,
  getRenewalSettingsEndpoint,
  putRenewalSettingsEndpoint,
] as readonly Endpoint[];
