import { createChannel, deleteChannel, testChannel } from '../notify/channels';
import { getRules, putRules } from '../notify/rules';
import type {
  createChannelEndpoint,
  deleteChannelEndpoint,
  getAlertRulesEndpoint,
  listAlertsEndpoint,
  listChannelsEndpoint,
  putAlertRulesEndpoint,
  testChannelEndpoint,
} from './alertEndpoints';
import { ApiError, type Controller } from './http';

/** Controllers of the alert and notification routes. */

export const getAlertRulesController: Controller<typeof getAlertRulesEndpoint> = async (_input, services) => ({
  status: 200,
  body: await getRules(services),
});

export const putAlertRulesController: Controller<typeof putAlertRulesEndpoint> = async ({ body }, services) => ({
  status: 200,
  body: await putRules(services, body),
});

export const listAlertsController: Controller<typeof listAlertsEndpoint> = async ({ query }, services) => {
  try {
    return {
      status: 200,
      body: await services.ledger.alerts.list({
        state: query.state ?? 'open',
        limit: query.limit ? Number(query.limit) : 100,
        ...(query.portalId ? { portalId: query.portalId } : {}),
        ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
      }),
    };
  } catch (error) {
    // Storage refuses a token it did not make.
    if (query.continuationToken && (error as { statusCode?: number }).statusCode === 400)
      throw new ApiError(400, 'bad_request', 'The continuation token is not valid; start from the first page.', [
        { in: 'query', path: 'continuationToken', message: 'is not valid' },
      ]);
    throw error;
  }
};

export const listChannelsController: Controller<typeof listChannelsEndpoint> = async (_input, services) => ({
  status: 200,
  body: { items: await services.ledger.channels.list() },
});

export const createChannelController: Controller<typeof createChannelEndpoint> = async ({ body }, services) => ({
  status: 201,
  body: await createChannel(services, body),
});

export const deleteChannelController: Controller<typeof deleteChannelEndpoint> = async ({ params }, services) => {
  await deleteChannel(services, params.id);
  return { status: 204 };
};

export const testChannelController: Controller<typeof testChannelEndpoint> = async ({ params }, services) => {
  const { ok, status, error, deliveryId } = await testChannel(services, params.id);
  return { status: 200, body: { ok, deliveryId, ...(status ? { status } : {}), ...(error ? { error } : {}) } };
};
