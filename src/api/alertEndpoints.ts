import { z } from 'zod';
import { defineEndpoint, type ResponseSpec } from './endpoint';
import { defineListEndpoint } from './lists';
import {
  alertListQuery,
  alertListSchema,
  alertSchema,
  channelListQuery,
  alertRulesBodySchema,
  alertRulesViewSchema,
  channelCreateSchema,
  channelListSchema,
  channelParams,
  channelSchema,
  channelTestResultSchema,
} from './alertSchemas';
import { emptyQuery, errorResponseSchema } from './schemas';

/** Routes of the alerts and notification channels (PRODUCT.md, "Alerts and notifications"). */

const noParams = z.strictObject({});
const failure = (description: string): ResponseSpec => ({ description, schema: errorResponseSchema });
const invalid = failure('The request is invalid: the failing fields are listed.');

export const getAlertRulesEndpoint = defineEndpoint({
  name: 'alertRulesGet',
  role: 'Reader',
  method: 'GET',
  route: 'api/alerts/rules',
  tag: 'alerts',
  summary: 'The alert rules',
  params: noParams,
  query: emptyQuery,
  body: undefined,
  responses: { 200: { description: 'The rules document.', schema: alertRulesViewSchema }, 400: invalid },
});

export const putAlertRulesEndpoint = defineEndpoint({
  name: 'alertRulesPut',
  role: 'Admin',
  method: 'PUT',
  route: 'api/alerts/rules',
  tag: 'alerts',
  summary: 'Replace the alert rules',
  description:
    'A rule left out takes its default; an unknown key is a 400. Open alerts a new exclusion covers resolve.',
  params: noParams,
  query: emptyQuery,
  body: alertRulesBodySchema,
  responses: { 200: { description: 'The rules as stored.', schema: alertRulesViewSchema }, 400: invalid },
});

export const listAlertsEndpoint = defineListEndpoint({
  name: 'alertsList',
  role: 'Reader',
  method: 'GET',
  route: 'api/alerts',
  tag: 'alerts',
  summary: 'Alerts, open ones by default',
  description: 'Open alerts first, then resolved ones newest first; paged with ?limit and ?continuationToken.',
  params: noParams,
  query: alertListQuery,
  body: undefined,
  list: { file: 'alerts', item: alertSchema },
  responses: { 200: { description: 'A page of alerts.', schema: alertListSchema }, 400: invalid },
});

export const listChannelsEndpoint = defineListEndpoint({
  name: 'channelsList',
  role: 'Reader',
  method: 'GET',
  route: 'api/notifications/channels',
  tag: 'notifications',
  summary: 'Notification channels',
  params: noParams,
  query: channelListQuery,
  body: undefined,
  list: { file: 'channels', item: channelSchema },
  responses: { 200: { description: 'The channels, by name.', schema: channelListSchema }, 400: invalid },
});

export const createChannelEndpoint = defineEndpoint({
  name: 'channelsCreate',
  role: 'Admin',
  method: 'POST',
  route: 'api/notifications/channels',
  tag: 'notifications',
  summary: 'Add a notification channel',
  description:
    'The URL and signing secret go to the secret store (Key Vault in Azure) and are never shown again. A URL that is not https or resolves to a loopback, private, link-local or metadata address is refused (400, channel_url_refused).',
  params: noParams,
  query: emptyQuery,
  body: channelCreateSchema,
  responses: {
    201: { description: 'Created.', schema: channelSchema },
    400: failure('The request is invalid, or the URL was refused (channel_url_refused, with the reason).'),
  },
});

export const deleteChannelEndpoint = defineEndpoint({
  name: 'channelsDelete',
  role: 'Admin',
  method: 'DELETE',
  route: 'api/notifications/channels/{id}',
  tag: 'notifications',
  summary: 'Delete a notification channel',
  params: channelParams,
  query: emptyQuery,
  body: undefined,
  responses: { 204: { description: 'Deleted.' }, 400: invalid, 404: failure('The channel does not exist.') },
});

export const testChannelEndpoint = defineEndpoint({
  name: 'channelsTest',
  role: 'Admin',
  method: 'POST',
  route: 'api/notifications/channels/{id}/test',
  tag: 'notifications',
  summary: 'Send a test event now',
  description: 'Sends a `test` event at once (not through the queue) and answers with the outcome.',
  params: channelParams,
  query: emptyQuery,
  body: undefined,
  responses: {
    200: { description: 'The outcome: ok, or the error.', schema: channelTestResultSchema },
    400: invalid,
    404: failure('The channel does not exist.'),
  },
});

export const alertEndpoints = [
  getAlertRulesEndpoint,
  putAlertRulesEndpoint,
  listAlertsEndpoint,
  listChannelsEndpoint,
  createChannelEndpoint,
  deleteChannelEndpoint,
  testChannelEndpoint,
] as const;
