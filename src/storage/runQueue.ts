import type { QueueClient } from '@azure/storage-queue';
import type { Settings } from '../config/settings';
import { getQueueClient } from './clients';
import type { QueueMessage, RunQueue } from '../domain/runMessage';

/**
 * Queue messages as the Functions host writes and reads them with `messageEncoding: "base64"` (host.json): the
 * UTF-8 JSON text, base64-encoded. A message the output binding or this adapter sent is what the queue trigger
 * decodes, in Azure and in the local host alike.
 */
export function encodeQueueMessage(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.from(text, 'utf8').toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * What a queue trigger receives: the decoded text parsed as JSON when it is JSON, the text otherwise. Throws on
 * text that is not base64, as the host does (the message then goes the way of any failed message).
 */
export function decodeQueueMessage(messageText: string): unknown {
  const trimmed = messageText.trim();
  if (trimmed.length % 4 !== 0 || !BASE64.test(trimmed)) {
    throw new Error('The queue message is not base64-encoded (host.json sets messageEncoding to base64).');
  }
  const text = Buffer.from(trimmed, 'base64').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Sends run messages to the run queue of the settings (created on first use). */
export class StorageRunQueue implements RunQueue {
  constructor(private readonly queue: () => Promise<QueueClient>) {}

  async send(message: QueueMessage): Promise<void> {
    const client = await this.queue();
    await client.sendMessage(encodeQueueMessage(message));
  }
}

export function createRunQueue(settings: Pick<Settings, 'storage' | 'queueName'>): RunQueue {
  return new StorageRunQueue(() => getQueueClient(settings));
}
