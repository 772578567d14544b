import {
  createChannelController,
  deleteChannelController,
  getAlertRulesController,
  listAlertsController,
  listChannelsController,
  putAlertRulesController,
  testChannelController,
} from '../src/api/alertControllers';
import {
  createChannelEndpoint,
  deleteChannelEndpoint,
  getAlertRulesEndpoint,
  listAlertsEndpoint,
  listChannelsEndpoint,
  putAlertRulesEndpoint,
  testChannelEndpoint,
} from '../src/api/alertEndpoints';
import { defineApiRoute } from '../src/api/http';
import { appServices } from '../src/app/compose';
import { loadSettings } from '../src/config/settings';
import { defineTimer } from '../src/host/registry';
import { evaluateDaily } from '../src/notify/evaluateAlerts';
import { invocationLogger } from '../src/runs/log';

/** Alerts: the rules, the list, the channels (routes in src/api/alertEndpoints.ts), and the daily pass. */
const settings = loadSettings();

export const alertRulesGet = defineApiRoute(getAlertRulesEndpoint, getAlertRulesController, appServices);
export const alertRulesPut = defineApiRoute(putAlertRulesEndpoint, putAlertRulesController, appServices);
export const alertsList = defineApiRoute(listAlertsEndpoint, listAlertsController, appServices);
export const channelsList = defineApiRoute(listChannelsEndpoint, listChannelsController, appServices);
export const channelsCreate = defineApiRoute(createChannelEndpoint, createChannelController, appServices);
export const channelsDelete = defineApiRoute(deleteChannelEndpoint, deleteChannelController, appServices);
export const channelsTest = defineApiRoute(testChannelEndpoint, testChannelController, appServices);

/** Once a day (LICENSE_SYNC_ALERTS_SCHEDULE): the rules that depend on the date, and alerts past retention. */
export const alertsDaily = defineTimer({
  name: 'alertsDaily',
  schedule: settings.alerts.schedule,
  handler: async (_timer, context) => {
    const services = await appServices();
    const summary = await evaluateDaily({ ...services, logger: invocationLogger(context) });
    context.info('Daily alert pass done', { ...summary });
  },
});
