import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import { loadSettings } from '../src/config/settings';
import { defineQueue } from '../src/host/registry';
import { hostSettings } from '../src/runs/hostSettings';
import { invocationLogger } from '../src/runs/log';
import { isPurgeMessage, queueMessageSchema } from '../src/domain/runMessage';
import { purgeFromQueue } from '../src/runs/purge';
import { runSync } from '../src/sync/runSync';
import { observeRun } from '../src/telemetry';

/**
 * The queue worker: one message, one run of one portal (or the rest of a portal's purge). A transient failure
 * throws so the host retries it.
 */
const settings = loadSettings();

export const portalRun = defineQueue({
  name: 'portalRun',
  queueName: settings.queueName,
  handler: async (message, context) => {
    const parsed = queueMessageSchema.safeParse(message);
    if (!parsed.success) {
      // Retrying cannot fix a malformed message: log it and let the host delete it.
      invocationLogger(context).error('Dropped a malformed run message', {
        problems: parsed.error.issues.map((issue) => issue.path.join('.') || issue.message),
      });
      return;
    }
    const services = await appServices();
    if (isPurgeMessage(parsed.data)) {
      const { portalId } = parsed.data;
      await purgeFromQueue({ ...services, logger: invocationLogger(context, { portalId }) }, portalId);
      return;
    }
    const { portalId, runId, trigger } = parsed.data;
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const { maxDequeueCount, visibilityTimeoutMs } = hostSettings().queues;
    const ids = { portalId, runId, trigger, attempt: dequeueCount };
    const run = parsed.data;
    await observeRun(
      { ...services, logger: invocationLogger(context, ids) },
      ids,
      (observed) => runSync(observed, run, { dequeueCount, maxDequeueCount, retryDelayMs: visibilityTimeoutMs }),
      { licenses: () => services.ledger.licenses.list(portalId) },
    );
  },
});
