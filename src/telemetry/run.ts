import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { TenantReader } from '../domain/tenant';
import { emitLogRecord, RUN_ATTRIBUTES } from './logs';
import { METRICS, RUN_FINISHED_EVENT, SPANS } from './names';
import { tracedReader, tracer } from './spans';
import { telemetryMode } from './start';

/** What identifies a run in every record of it (customDimensions). */
export interface RunAttributes {
  portalId: string;
  runId: string;
  trigger: string;
  attempt: number;
}

/** The parts of a run record the telemetry reads (structural: src/domain/records.ts RunRecord fits). */
export interface RunResult {
  status: string;
  startedAt?: string;
  endedAt?: string;
  counts: { usersRead: number } & Record<string, number>;
  graphRequests: number;
  throttledRetries: number;
  readMode?: string;
  errorCode?: string;
}

/** One license after a run (structural: the ledger's LicenseRecord fits). */
export interface LicenseStock {
  skuPartNumber: string;
  available: number;
  consumedUnits: number;
  assigned: number;
  status?: string;
}

/** Instruments are made on first use: a meter taken before the distro started would stay a no-op. */
let instruments: ReturnType<typeof makeInstruments> | undefined;
function makeInstruments() {
  const meter = metrics.getMeter('m365-license-sync');
  return {
    duration: meter.createHistogram(METRICS.runDuration, { unit: 's', description: 'Wall time of a run attempt' }),
    users: meter.createHistogram(METRICS.runUsers, { description: 'Users read by a run' }),
    changes: meter.createHistogram(METRICS.runChanges, { description: 'Ledger changes a run made' }),
    throttled: meter.createCounter(METRICS.graphThrottled, { description: 'Requests Graph throttled (retried)' }),
    available: meter.createGauge(METRICS.licenseAvailable, { description: 'Enabled units of a plan' }),
    consumed: meter.createGauge(METRICS.licenseConsumed, { description: 'Units in use (Microsoft count)' }),
    assigned: meter.createGauge(METRICS.licenseAssigned, { description: 'Consumers the sync linked' }),
    free: meter.createGauge(METRICS.licenseFree, { description: 'available - consumed' }),
  };
}
function meters() {
  instruments ??= makeInstruments();
  return instruments;
}

const CHANGE_COUNTS = [
  'licensesCreated',
  'licensesUpdated',
  'contactsCreated',
  'contactsUpdated',
  'consumersAdded',
  'consumersUpdated',
  'consumersRemoved',
];

/** Ledger changes a run made (or would make): every count but the reads and the conflicts. */
export function changesOf(counts: Record<string, number>): number {
  return CHANGE_COUNTS.reduce((sum, key) => sum + (counts[key] ?? 0), 0);
}

export interface RunOutcome {
  /** succeeded, failed, skipped; `retrying` when the attempt threw for the host to deliver it again. */
  status: string;
  errorCode?: string;
  durationSeconds?: number;
  run?: RunResult;
  /** Throttled Graph requests of an attempt that has no run record to show (it threw). */
  throttledRetries?: number;
}

/**
 * Records a run's outcome: the `licensesync.run.finished` event (what the alerts count) and the per-run metrics,
 * all with the run's attributes. Users and changes only for a run that succeeded.
 */
export function recordRunOutcome(ids: RunAttributes, outcome: RunOutcome): void {
  if (telemetryMode() === 'off') return;
  const { run } = outcome;
  const dimensions = {
    portalId: ids.portalId,
    trigger: ids.trigger,
    status: outcome.status,
    ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
  };
  const m = meters();
  if (outcome.durationSeconds !== undefined) m.duration.record(outcome.durationSeconds, dimensions);
  if (run && outcome.status === 'succeeded') {
    m.users.record(run.counts.usersRead, dimensions);
    m.changes.record(changesOf(run.counts), dimensions);
  }
  const throttled = run?.throttledRetries ?? outcome.throttledRetries ?? 0;
  if (throttled > 0) m.throttled.add(throttled, dimensions);
  emitLogRecord(
    outcome.status === 'failed' ? 'error' : outcome.status === 'retrying' ? 'warn' : 'info',
    `run ${outcome.status}`,
    {
      'microsoft.custom_event.name': RUN_FINISHED_EVENT,
      ...ids,
      ...dimensions,
      ...(outcome.durationSeconds !== undefined ? { durationSeconds: outcome.durationSeconds } : {}),
      ...(run
        ? {
            readMode: run.readMode,
            usersRead: run.counts.usersRead,
            changes: changesOf(run.counts),
            graphRequests: run.graphRequests,
            throttledRetries: run.throttledRetries,
          }
        : {}),
    },
  );
}

/** The license gauges of one portal after a run; `free` = available - consumed (the lowStock rule's figure). */
export function recordLicenseStock(portalId: string, licenses: readonly LicenseStock[]): void {
  if (telemetryMode() === 'off') return;
  const m = meters();
  for (const license of licenses) {
    if (license.status === 'goneFromPortal') continue;
    const dimensions = { portalId, skuPartNumber: license.skuPartNumber };
    m.available.record(license.available, dimensions);
    m.consumed.record(license.consumedUnits, dimensions);
    m.assigned.record(license.assigned, dimensions);
    m.free.record(license.available - license.consumedUnits, dimensions);
  }
}

export interface ObservedRunOptions {
  /** The portal's licenses as stored after the run, for the license gauges. */
  licenses?: () => Promise<readonly LicenseStock[]>;
}

/**
 * One run attempt under telemetry: a `licensesync.run` span (consumer of the run message) around it, the
 * tenant readers it opens traced, then the outcome event, the run metrics and the license gauges. `run` gets
 * the services with the traced `openTenant`; it returns the run record or throws (a retry).
 */
export async function observeRun<S extends { openTenant(...args: never[]): TenantReader }, R extends RunResult>(
  services: S,
  ids: RunAttributes,
  run: (services: S) => Promise<R>,
  options: ObservedRunOptions = {},
): Promise<R> {
  if (telemetryMode() === 'off') return run(services);
  const readers: TenantReader[] = [];
  const open = services.openTenant.bind(services) as (...args: Parameters<S['openTenant']>) => TenantReader;
  const observed: S = {
    ...services,
    openTenant: (...args: Parameters<S['openTenant']>) => {
      const reader = open(...args);
      readers.push(reader);
      return tracedReader(reader);
    },
  };
  const span = tracer().startSpan(SPANS.run, { kind: SpanKind.SERVER, attributes: { ...ids } });
  const inRun = trace.setSpan(context.active(), span).setValue(RUN_ATTRIBUTES, ids);
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  const throttled = () => readers.reduce((sum, reader) => sum + reader.stats().throttledRetries, 0);
  try {
    const result = await context.with(inRun, () => run(observed));
    span.setAttributes({ status: result.status, ...(result.errorCode ? { errorCode: result.errorCode } : {}) });
    if (result.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: result.errorCode });
    await context.with(inRun, async () => {
      recordRunOutcome(ids, {
        status: result.status,
        errorCode: result.errorCode,
        durationSeconds: seconds(),
        run: result,
      });
      if (result.status === 'succeeded' && options.licenses) {
        recordLicenseStock(ids.portalId, await options.licenses().catch(() => []));
      }
    });
    return result;
  } catch (error) {
    const errorCode = (error as { code?: unknown }).code;
    const code = typeof errorCode === 'string' ? errorCode : 'internal_error';
    span.setAttributes({ status: 'retrying', errorCode: code });
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    context.with(inRun, () =>
      recordRunOutcome(ids, {
        status: 'retrying',
        errorCode: code,
        durationSeconds: seconds(),
        throttledRetries: throttled(),
      }),
    );
    throw error;
  } finally {
    span.end();
  }
}
