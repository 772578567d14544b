import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { HostQueueSettings } from '../runs/hostSettings';
import { decodeQueueMessage } from '../storage/runQueue';

/** Trigger metadata of a queue message, named as the Node.js worker passes it in `context.triggerMetadata`. */
export interface QueueTriggerMetadata {
  id: string;
  dequeueCount: number;
  insertionTime: string;
  expirationTime: string;
  nextVisibleTime: string;
  popReceipt: string;
  queueTrigger: string;
}

export interface ListenerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface QueueListenerOptions {
  functionName: string;
  queue: QueueClient;
  /** The `<queue>-poison` queue, created on first use. */
  poisonQueue: () => Promise<QueueClient>;
  settings: HostQueueSettings;
  /**
   * How long a message stays hidden while its handler runs; renewed at half that. It is also how long a message
   * of a worker that died stays hidden before another delivery (the Functions host uses 10 minutes).
   */
  messageLeaseMs: number;
  /** Runs the function; throws when the invocation failed. */
  invoke: (message: unknown, metadata: QueueTriggerMetadata) => Promise<void>;
  log: ListenerLog;
}

const MIN_POLLING_MS = 100;

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A queue trigger that behaves like the Functions host's: it takes up to `batchSize` messages at a time and
 * fetches more once no more than `newBatchThreshold` are in flight; polls with a back-off up to
 * `maxPollingInterval` when the queue is empty (woken at once by `wake()` when this process sent a message);
 * keeps a message hidden while its handler runs; deletes it on success; on failure makes it visible again after
 * `visibilityTimeout`, or, on the `maxDequeueCount`-th delivery, moves it to the poison queue. A message
 * delivered more often than that without ever completing (its workers died) goes to the poison queue unrun.
 */
export class QueueListener {
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeUp: (() => void) | undefined;
  private delay = MIN_POLLING_MS;
  private loop: Promise<void> | undefined;
  private storageDown = false;

  constructor(private readonly options: QueueListenerOptions) {}

  get queueName(): string {
    return this.options.queue.name;
  }

  /** Messages whose handler is running now. */
  get busy(): number {
    return this.inFlight.size;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Polls now (a message was just sent to this queue by this process). */
  wake(): void {
    this.delay = MIN_POLLING_MS;
    this.wakeUp?.();
  }

  /**
   * Stops fetching and waits up to `graceMs` for running handlers. Messages still running after that stay hidden
   * until their lease runs out and are then delivered again, as after a crash. Returns how many were left.
   */
  async stop(graceMs: number): Promise<number> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      if (timer) clearTimeout(timer);
    }
    return this.inFlight.size;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private async run(): Promise<void> {
    const { settings, queue, log, messageLeaseMs } = this.options;
    while (!this.stopped) {
      if (this.inFlight.size > settings.newBatchThreshold) {
        // Woken when a handler finishes.
        await this.sleep(settings.maxPollingIntervalMs);
        continue;
      }
      let items: DequeuedMessageItem[];
      try {
        const response = await queue.receiveMessages({
          numberOfMessages: settings.batchSize,
          visibilityTimeout: Math.max(1, seconds(messageLeaseMs)),
        });
        items = response.receivedMessageItems;
        if (this.storageDown) log.info(`Queue ${queue.name} is reachable again.`);
        this.storageDown = false;
      } catch (error) {
        if (this.stopped) break;
        if (!this.storageDown) log.error(`Cannot read queue ${queue.name}: ${describe(error)}. Retrying.`);
        this.storageDown = true;
        await this.sleep(Math.min(settings.maxPollingIntervalMs, 5000));
        continue;
      }
      if (items.length === 0) {
        await this.sleep(this.delay);
        this.delay = Math.min(this.delay * 2, settings.maxPollingIntervalMs);
        continue;
      }
      this.delay = MIN_POLLING_MS;
      for (const item of items) {
        const work: Promise<void> = this.process(item)
          .catch((error: unknown) =>
            log.error(`${this.options.functionName}: message ${item.messageId}: ${describe(error)}`),
          )
          .finally(() => {
            this.inFlight.delete(work);
            this.wakeUp?.();
          });
        this.inFlight.add(work);
      }
    }
  }

  private async process(item: DequeuedMessageItem): Promise<void> {
    const { queue, settings, log, functionName, messageLeaseMs } = this.options;
    const max = settings.maxDequeueCount;
    if (item.dequeueCount > max) {
      await this.poison(item, item.popReceipt, `it was delivered ${item.dequeueCount} times without completing`);
      return;
    }

    let value: unknown;
    try {
      value = decodeQueueMessage(item.messageText);
    } catch (error) {
      // Retrying cannot decode it either.
      await this.poison(item, item.popReceipt, describe(error));
      return;
    }

    // Keep the message hidden while the handler runs; each renewal hands out a new pop receipt.
    let popReceipt = item.popReceipt;
    let renewing = Promise.resolve();
    const renewal = setInterval(
      () => {
        renewing = renewing.then(async () => {
          try {
            const updated = await queue.updateMessage(
              item.messageId,
              popReceipt,
              undefined,
              Math.max(1, seconds(messageLeaseMs)),
            );
            popReceipt = updated.popReceipt ?? popReceipt;
          } catch (error) {
            log.warn(`${functionName}: could not extend the lease of message ${item.messageId}: ${describe(error)}`);
          }
        });
      },
      Math.max(250, messageLeaseMs / 2),
    );

    let failure: unknown;
    try {
      await this.options.invoke(value, {
        id: item.messageId,
        dequeueCount: item.dequeueCount,
        insertionTime: item.insertedOn.toISOString(),
        expirationTime: item.expiresOn.toISOString(),
        nextVisibleTime: item.nextVisibleOn.toISOString(),
        popReceipt: item.popReceipt,
        queueTrigger: Buffer.from(item.messageText, 'base64').toString('utf8'),
      });
    } catch (error) {
      failure = error ?? new Error('The function failed.');
    } finally {
      clearInterval(renewal);
      await renewing;
    }

    if (failure === undefined) {
      await queue.deleteMessage(item.messageId, popReceipt);
    } else if (item.dequeueCount >= max) {
      await this.poison(item, popReceipt, `attempt ${item.dequeueCount} of ${max} failed: ${describe(failure)}`);
    } else {
      log.warn(
        `${functionName}: attempt ${item.dequeueCount} of ${max} failed (${describe(failure)}); retrying in ${seconds(settings.visibilityTimeoutMs)}s.`,
      );
      await queue.updateMessage(item.messageId, popReceipt, undefined, seconds(settings.visibilityTimeoutMs));
    }
  }

  private async poison(item: DequeuedMessageItem, popReceipt: string, reason: string): Promise<void> {
    const poison = await this.options.poisonQueue();
    // The content moves unchanged, as the host does, so the poison function reads the same message.
    await poison.sendMessage(item.messageText);
    await this.options.queue.deleteMessage(item.messageId, popReceipt);
    this.options.log.error(
      `${this.options.functionName}: moved message ${item.messageId} to ${poison.name} because ${reason}.`,
    );
  }
}
