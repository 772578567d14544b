import { appServices } from '../src/app/compose';
import { loadSettings } from '../src/config/settings';
import { deliveryMessageSchema } from '../src/domain/alerts';
import { defineQueue } from '../src/host/registry';
import { deliver, failPoisonedDelivery } from '../src/notify/deliveries';
import { hostSettings } from '../src/runs/hostSettings';
import { invocationLogger } from '../src/runs/log';
import { poisonQueueName } from '../src/storage/clients';

/** The notification queue: one message, one delivery to one channel; retried by the host, then poisoned. */
const settings = loadSettings();

export const notificationDelivery = defineQueue({
  name: 'notificationDelivery',
  queueName: settings.notificationQueueName,
  handler: async (message, context) => {
    const parsed = deliveryMessageSchema.safeParse(message);
    if (!parsed.success) {
      context.error('Dropped a malformed delivery message');
      return;
    }
    const services = await appServices();
    await deliver({ ...services, logger: invocationLogger(context) }, parsed.data, {
      dequeueCount: Number(context.triggerMetadata?.dequeueCount ?? 1),
      maxDequeueCount: hostSettings().queues.maxDequeueCount,
    });
  },
});

export const notificationDeliveryPoison = defineQueue({
  name: 'notificationDeliveryPoison',
  queueName: poisonQueueName(settings.notificationQueueName),
  handler: async (message, context) => {
    const parsed = deliveryMessageSchema.safeParse(message);
    if (!parsed.success) {
      context.error('Dropped a malformed poisoned delivery message');
      return;
    }
    const services = await appServices();
    await failPoisonedDelivery({ ...services, logger: invocationLogger(context) }, parsed.data);
  },
});
