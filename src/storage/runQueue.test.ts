import { QueueClient } from '@azure/storage-queue';
import { testSettings } from '../../test/support/env';
import { parseHostJson, parseTimeSpan } from '../runs/hostSettings';
import { runMessageSchema } from '../domain/runMessage';
import { createRunQueue, decodeQueueMessage, encodeQueueMessage } from './runQueue';

describe('run queue messages', () => {
  it('are base64 of the UTF-8 JSON, as the Functions host writes them with messageEncoding base64', () => {
    const message = { portalId: 'p-ü', runId: 'r1', trigger: 'schedule' as const };
    const encoded = encodeQueueMessage(message);
    expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe(JSON.stringify(message));
    expect(decodeQueueMessage(encoded)).toEqual(message);
  });

  it('decode to the plain text when the content is not JSON, and refuse text that is not base64', () => {
    expect(decodeQueueMessage(Buffer.from('hello').toString('base64'))).toBe('hello');
    expect(() => decodeQueueMessage('{"portalId":"p"}')).toThrow(/base64/);
  });

  it('go through a real queue unchanged', async () => {
    const settings = testSettings();
    const queue = createRunQueue(settings);
    await queue.send({ portalId: 'p1', runId: 'r1', trigger: 'manual' });
    const client = new QueueClient(process.env.AzureWebJobsStorage as string, settings.queueName);
    const { receivedMessageItems } = await client.receiveMessages();
    expect(receivedMessageItems).toHaveLength(1);
    expect(decodeQueueMessage(receivedMessageItems[0]!.messageText)).toEqual({
      portalId: 'p1',
      runId: 'r1',
      trigger: 'manual',
    });
    await client.delete();
  });
});

describe('the run message schema', () => {
  it('takes a scheduled message with its queuedAt, and an older message without it', () => {
    const scheduled = { portalId: 'p1', runId: 'r1', trigger: 'schedule', queuedAt: '2030-01-02T03:04:05.000Z' };
    expect(runMessageSchema.parse(scheduled)).toEqual(scheduled);
    expect(runMessageSchema.parse({ portalId: 'p1', runId: 'r1', trigger: 'schedule' })).toEqual({
      portalId: 'p1',
      runId: 'r1',
      trigger: 'schedule',
    });
  });

  it('refuses a queuedAt that is not an ISO date and time, and fields it does not know', () => {
    const base = { portalId: 'p1', runId: 'r1', trigger: 'schedule' };
    expect(runMessageSchema.safeParse({ ...base, queuedAt: 'yesterday' }).success).toBe(false);
    expect(runMessageSchema.safeParse({ ...base, queuedAt: '2030-01-02' }).success).toBe(false);
    expect(runMessageSchema.safeParse({ ...base, queuedAt: 1_700_000_000_000 }).success).toBe(false);
    expect(runMessageSchema.safeParse({ ...base, status: 'queued' }).success).toBe(false);
  });
});

describe('host.json settings', () => {
  it('reads the repository host.json: retries, poison after maxDequeueCount, a timeout that fits a large tenant', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const host = parseHostJson(require('../../host.json'));
    expect(host.queues.messageEncoding).toBe('base64');
    expect(host.queues.maxDequeueCount).toBeGreaterThanOrEqual(3);
    expect(host.functionTimeoutMs).toBeGreaterThanOrEqual(10 * 60_000);
    expect(host.queues.batchSize).toBeLessThanOrEqual(32);
  });

  it('falls back to the Functions defaults', () => {
    const host = parseHostJson({ version: '2.0' });
    expect(host.queues).toMatchObject({
      batchSize: 16,
      newBatchThreshold: 8,
      maxDequeueCount: 5,
      visibilityTimeoutMs: 0,
    });
  });

  it('parses TimeSpans', () => {
    expect(parseTimeSpan('00:00:30')).toBe(30_000);
    expect(parseTimeSpan('1.02:00:00')).toBe(26 * 3_600_000);
    expect(() => parseTimeSpan('30s')).toThrow();
  });

  it('refuses a batch size the host would refuse', () => {
    expect(() => parseHostJson({ extensions: { queues: { batchSize: 64 } } })).toThrow(/batchSize/);
  });
});
