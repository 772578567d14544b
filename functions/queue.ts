import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import { loadSettings } from '../src/config/settings';
import { defineQueue } from '../src/host/registry';
import { hostSettings } from '../src/runs/hostSettings';
import { invocationLogger } from '../src/runs/log';
import { runMessageSchema } from '../src/domain/runMessage';
import { runSync } from '../src/sync/runSync';
import { observeRun } from '../src/telemetry';

/** The queue worker: one message, one run of one portal. A transient failure throws so the host retries it. */
const settings = loadSettings();

export const portalRun = defineQueue({
  name: 'portalRun',
  queueName: settings.queueName,
  handler: async (message, context) => {
    const parsed = runMessageSchema.safeParse(message);
    if (!parsed.success) {
      // Retrying cannot fix a malformed message: log it and let the host delete it.
      invocationLogger(context).error('Dropped a malformed run message', {
        problems: parsed.error.issues.map((issue) => issue.path.join('.') || issue.message),
      });
      return;
    }
    const { portalId, runId, trigger } = parsed.data;
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const { maxDequeueCount } = hostSettings().queues;
    const services = await appServices();
    const ids = { portalId, runId, trigger, attempt: dequeueCount };
    await observeRun(
      { ...services, logger: invocationLogger(context, ids) },
      ids,
      (observed) => runSync(observed, parsed.data, { dequeueCount, maxDequeueCount }),
      { licenses: () => services.ledger.licenses.list(portalId) },
    );
  },
});
