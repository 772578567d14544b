import { recordChange } from '../domain/audit';
import { createChannel, deleteChannel, testChannel } from '../notify/channels';
import { getRules, putRules } from '../notify/rules';
import {
  type createChannelEndpoint,
  type deleteChannelEndpoint,
  type getAlertRulesEndpoint,
  listAlertsEndpoint,
  listChannelsEndpoint,
  type putAlertRulesEndpoint,
  type testChannelEndpoint,
} from './alertEndpoints';
import { ApiError, type Controller } from './http';
import { listController, pagedListController } from './lists';
import { ALERT_RULES } from '../alerts/rules';

/** Controllers of the alert and notification routes. */

export const getAlertRulesController: Controller<typeof getAlertRulesEndpoint> = async (_input, services) => ({
  status: 200,
  body: await getRules(services),
});

export const putAlertRulesController: Controller<typeof putAlertRulesEndpoint> = async (
  { body, principal },
  services,
) => {
  const stored = await putRules(services, body);
  const off = ALERT_RULES.filter((rule) => !body[rule].enabled);
  const { portalIds, skuIds, licenseIds } = body.exclude;
  await recordChange(services, principal, {
    action: 'alertRules.replace',
    target: 'alerts/rules',
    summary: `Replaced the alert rules (off: ${off.join(', ') || 'none'}; excluded: ${portalIds.length} portals, ${skuIds.length} plans, ${licenseIds.length} licenses)`,
  });
  return { status: 200, body: stored };
};

export const listAlertsController = pagedListController(listAlertsEndpoint, async ({ query }, services, cursor) => {
  try {
    return await services.ledger.alerts.list({
      state: query.state ?? 'open',
      limit: cursor.limit ?? 100,
      ...(query.portalId ? { portalId: query.portalId } : {}),
      ...(cursor.continuationToken ? { continuationToken: cursor.continuationToken } : {}),
    });
  } catch (error) {
    // Storage refuses a token it did not make.
    if (cursor.continuationToken && (error as { statusCode?: number }).statusCode === 400)
      throw new ApiError(400, 'bad_request', 'The continuation token is not valid; start from the first page.', [
        { in: 'query', path: 'continuationToken', message: 'is not valid' },
      ]);
    throw error;
  }
});

export const listChannelsController = listController(listChannelsEndpoint, async function* (_input, services) {
  yield await services.ledger.channels.list();
});

export const createChannelController: Controller<typeof createChannelEndpoint> = async (
  { body, principal },
  services,
) => {
  const channel = await createChannel(services, body);
  // Never the URL or the secret: only what kind of channel, and its name.
  await recordChange(services, principal, {
    action: 'channel.create',
    target: `notifications/channels/${channel.id}`,
    summary: `Added ${channel.kind} channel "${channel.name}"${channel.hasSigningSecret ? ' with a signing secret' : ''}`,
  });
  return { status: 201, body: channel };
};

export const deleteChannelController: Controller<typeof deleteChannelEndpoint> = async (
  { params, principal },
  services,
) => {
  await deleteChannel(services, params.id);
  await recordChange(services, principal, {
    action: 'channel.delete',
    target: `notifications/channels/${params.id}`,
    summary: 'Deleted the notification channel',
  });
  return { status: 204 };
};

export const testChannelController: Controller<typeof testChannelEndpoint> = async ({ params }, services) => {
  const { ok, status, error, deliveryId } = await testChannel(services, params.id);
  return { status: 200, body: { ok, deliveryId, ...(status ? { status } : {}), ...(error ? { error } : {}) } };
};
