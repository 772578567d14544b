import { QueueClient } from '@azure/storage-queue';
import { randomBytes } from 'node:crypto';
import type { HostQueueSettings } from '../runs/hostSettings';
import { decodeQueueMessage, encodeQueueMessage } from '../storage/runQueue';
import { QueueListener, type QueueTriggerMetadata } from './queueListener';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function queues(): { queue: QueueClient; poison: QueueClient } {
  const connection = process.env.AzureWebJobsStorage;
  if (!connection) throw new Error('Run the tests with `npm test` (it starts Azurite).');
  const name = `q${randomBytes(6).toString('hex')}`;
  return {
    queue: new QueueClient(connection, name),
    poison: new QueueClient(connection, `${name}-poison`),
  };
}

function settings(overrides: Partial<HostQueueSettings> = {}): HostQueueSettings {
  return {
    batchSize: 4,
    newBatchThreshold: 2,
    maxDequeueCount: 3,
    visibilityTimeoutMs: 0,
    maxPollingIntervalMs: 200,
    messageEncoding: 'base64',
    ...overrides,
  };
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function peekAll(queue: QueueClient): Promise<string[]> {
  const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.map((item) => item.messageText);
}

describe('local queue listener (like the Functions host, on real Azurite queues)', () => {
  let listener: QueueListener | undefined;
  afterEach(async () => {
    await listener?.stop(1000);
    listener = undefined;
  });

  function listen(
    queue: QueueClient,
    poison: QueueClient,
    invoke: (message: unknown, meta: QueueTriggerMetadata) => Promise<void>,
    overrides: Partial<HostQueueSettings> = {},
    messageLeaseMs = 10_000,
  ) {
    listener = new QueueListener({
      functionName: 'test',
      queue,
      poisonQueue: async () => {
        await poison.createIfNotExists();
        return poison;
      },
      settings: settings(overrides),
      messageLeaseMs,
      invoke,
      log: silent,
    });
    listener.start();
    return listener;
  }

  it('hands the handler the decoded JSON with its dequeue count, and deletes the message on success', async () => {
    const { queue, poison } = queues();
    await queue.create();
    await queue.sendMessage(encodeQueueMessage({ portalId: 'p', runId: 'r', trigger: 'manual' }));
    const seen: [unknown, QueueTriggerMetadata][] = [];
    listen(queue, poison, async (message, meta) => {
      seen.push([message, meta]);
    });
    await until(() => seen.length === 1);
    expect(seen[0]![0]).toEqual({ portalId: 'p', runId: 'r', trigger: 'manual' });
    expect(seen[0]![1].dequeueCount).toBe(1);
    expect(seen[0]![1].queueTrigger).toBe('{"portalId":"p","runId":"r","trigger":"manual"}');
    await until(async () => (await queue.getProperties()).approximateMessagesCount === 0);
  });

  it('retries a failing message and moves it, unchanged, to the -poison queue after maxDequeueCount attempts', async () => {
    const { queue, poison } = queues();
    await queue.create();
    const text = encodeQueueMessage({ portalId: 'p', runId: 'r', trigger: 'schedule' });
    await queue.sendMessage(text);
    const counts: number[] = [];
    listen(queue, poison, async (_message, meta) => {
      counts.push(meta.dequeueCount);
      throw new Error('always fails');
    });
    const poisoned = await until(async () => {
      if (!(await poison.exists())) return undefined;
      const items = await peekAll(poison);
      return items.length ? items : undefined;
    });
    expect(counts).toEqual([1, 2, 3]);
    expect(poisoned).toEqual([text]);
    expect(decodeQueueMessage(poisoned[0]!)).toEqual({ portalId: 'p', runId: 'r', trigger: 'schedule' });
    expect(await peekAll(queue)).toEqual([]);
  });

  it('waits the visibility timeout before a retry', async () => {
    const { queue, poison } = queues();
    await queue.create();
    await queue.sendMessage(encodeQueueMessage('x'));
    const times: number[] = [];
    listen(
      queue,
      poison,
      async () => {
        times.push(Date.now());
        if (times.length === 1) throw new Error('transient');
      },
      { visibilityTimeoutMs: 2000 },
    );
    await until(() => times.length === 2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1500);
  });

  it('sends a message already delivered more than maxDequeueCount times (its workers died) to the poison queue without running it', async () => {
    const { queue, poison } = queues();
    await queue.create();
    await queue.sendMessage(encodeQueueMessage('crashy'));
    // One delivery whose worker "died": the message comes back after its 1 s invisibility.
    await queue.receiveMessages({ visibilityTimeout: 1 });
    await new Promise((r) => setTimeout(r, 1200));
    let ran = false;
    listen(
      queue,
      poison,
      async () => {
        ran = true;
      },
      { maxDequeueCount: 1 },
    );
    await until(async () => (await poison.exists()) && (await peekAll(poison)).length === 1);
    expect(ran).toBe(false);
  });

  it('poisons a message that is not base64 at once, as retrying cannot decode it', async () => {
    const { queue, poison } = queues();
    await queue.create();
    await queue.sendMessage('{"not":"base64"}');
    let ran = false;
    listen(queue, poison, async () => {
      ran = true;
    });
    await until(async () => (await poison.exists()) && (await peekAll(poison)).length === 1);
    expect(ran).toBe(false);
  });

  it('keeps a message hidden while a long handler runs, so it is delivered once', async () => {
    const { queue, poison } = queues();
    await queue.create();
    await queue.sendMessage(encodeQueueMessage('slow'));
    let runs = 0;
    listen(
      queue,
      poison,
      async () => {
        runs += 1;
        await new Promise((r) => setTimeout(r, 3500));
      },
      {},
      1000,
    );
    await until(() => runs === 1);
    await new Promise((r) => setTimeout(r, 1500));
    // Past the 1 s lease, yet still invisible: the listener renewed it.
    expect(await peekAll(queue)).toEqual([]);
    await until(async () => (await queue.getProperties()).approximateMessagesCount === 0);
    expect(runs).toBe(1);
  });

  it('wakes at once when told a message was sent', async () => {
    const { queue, poison } = queues();
    await queue.create();
    let got = 0;
    const l = listen(
      queue,
      poison,
      async () => {
        got += 1;
      },
      { maxPollingIntervalMs: 60_000 },
    );
    // Let the back-off grow.
    await new Promise((r) => setTimeout(r, 1500));
    await queue.sendMessage(encodeQueueMessage('now'));
    const sent = Date.now();
    l.wake();
    await until(() => got === 1);
    expect(Date.now() - sent).toBeLessThan(1000);
  });
});
