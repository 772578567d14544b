import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import { loadSettings } from '../src/config/settings';
import { defineQueue } from '../src/host/registry';
import { hostSettings } from '../src/runs/hostSettings';
import { invocationLogger } from '../src/runs/log';
import { isPurgeMessage, queueMessageSchema } from '../src/domain/runMessage';
import { failPoisonedRun } from '../src/runs/poison';
import { poisonQueueName } from '../src/storage/clients';

/** Run messages the host gave up on (the `-poison` queue): their runs become failed with the last error. */
const settings = loadSettings();

export const portalRunPoison = defineQueue({
  name: 'portalRunPoison',
  queueName: poisonQueueName(settings.queueName),
  handler: async (message, context) => {
    const parsed = queueMessageSchema.safeParse(message);
    if (!parsed.success) {
      invocationLogger(context).error('Dropped a malformed poisoned run message', {
        problems: parsed.error.issues.map((issue) => issue.path.join('.') || issue.message),
      });
      return;
    }
    if (isPurgeMessage(parsed.data)) {
      // The portal stays marked deleting (the page shows it); repeating the delete finishes the purge.
      invocationLogger(context).error('Gave up on the purge of a portal access; repeat its delete to finish it', {
        portalId: parsed.data.portalId,
      });
      return;
    }
    const { portalId, runId, trigger } = parsed.data;
    const services = await appServices();
    await failPoisonedRun(
      { ...services, logger: invocationLogger(context, { portalId, runId, trigger }) },
      parsed.data,
      hostSettings().queues.maxDequeueCount,
    );
  },
});
