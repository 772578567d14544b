import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import { loadSettings } from '../src/config/settings';
import { defineTimer, runQueueOutput } from '../src/host/registry';
import { fanOutScheduledRuns } from '../src/runs/fanout';
import { invocationLogger } from '../src/runs/log';

/** The scheduled sync: every active portal with automatic sync gets one run message (LICENSE_SYNC_SCHEDULE). */
const settings = loadSettings();
const runQueue = runQueueOutput(settings.queueName);

export const scheduledSync = defineTimer({
  name: 'scheduledSync',
  schedule: settings.schedule,
  queueOutput: runQueue,
  queueName: settings.queueName,
  handler: async (timer, context) => {
    const services = await appServices();
    const logger = invocationLogger(context);
    const result = await fanOutScheduledRuns({ ...services, logger });
    // The output binding sends one message per array element once the function returns.
    context.extraOutputs.set(runQueue, result.messages);
    logger.info('Scheduled sync fanned out', {
      queued: result.messages.length,
      skipped: result.skipped.length,
      isPastDue: timer.isPastDue,
    });
  },
});
