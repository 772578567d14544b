import type { Settings } from '../config/settings';
import type { DeliveryMessage, NotificationQueue } from '../domain/alerts';
import { getQueueClient } from './clients';
import { encodeQueueMessage } from './runQueue';

/** Sends delivery messages to the notification queue (base64 JSON, like the run queue), created on first use. */
export function createNotificationQueue(
  settings: Pick<Settings, 'storage' | 'notificationQueueName'>,
): NotificationQueue {
  const queue = () => getQueueClient({ storage: settings.storage, queueName: settings.notificationQueueName });
  return {
    send: async (message: DeliveryMessage) => {
      await (await queue()).sendMessage(encodeQueueMessage(message));
    },
  };
}
