import { AzureFunctionsInstrumentation } from '@azure/functions-opentelemetry-instrumentation';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { shutdownAzureMonitor, useAzureMonitor } from '@azure/monitor-opentelemetry';
import { metrics, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

/**
 * - `off`: no APPLICATIONINSIGHTS_CONNECTION_STRING; no exporter, logs go to the console as they always did.
 * - `functions`: in the Functions worker. The host gets its logs through the OpenTelemetry pipeline
 *   (host.json telemetryMode), so a line is emitted once, as a log record, not also through context.log.
 * - `local`: `npm start`; log records are exported and the console shows every line too.
 */
export type TelemetryMode = 'off' | 'functions' | 'local';

let mode: TelemetryMode | undefined;

/**
 * Entra ID ingestion (infra sets `Authorization=AAD;ClientId=<identity>`, and Application Insights refuses keys):
 * the exporter does not read this setting itself, so the app's managed identity is passed as its credential.
 */
export function ingestionCredential(authentication: string | undefined): TokenCredential | undefined {
  const parts = new Map(
    (authentication ?? '')
      .split(';')
      .map((part) => part.split('=').map((text) => text.trim()))
      .filter((pair): pair is [string, string] => pair.length === 2)
      .map(([key, value]) => [key.toLowerCase(), value]),
  );
  if (parts.get('authorization')?.toLowerCase() !== 'aad') return undefined;
  const clientId = parts.get('clientid');
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}

/** The distro's own calls (the VM metadata probe, its settings service) are not the app's dependencies. */
function isSdkHousekeeping(hostname: string | null | undefined): boolean {
  return hostname === '169.254.169.254' || (hostname ?? '').endsWith('.monitor.azure.com');
}

export function telemetryMode(): TelemetryMode {
  return mode ?? 'off';
}

/**
 * Starts the Azure Monitor OpenTelemetry distro once per process, when a connection string is set. Call it
 * before `@azure/functions`, `http` and the Azure SDKs are loaded (src/telemetry/worker.ts, local.ts), so their
 * instrumentations patch them: Graph and storage calls then appear as dependencies.
 */
export function startTelemetry(env: NodeJS.ProcessEnv, wanted: Exclude<TelemetryMode, 'off'>): TelemetryMode {
  if (mode) return mode;
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return (mode = 'off');
  const inAzure = wanted === 'functions';
  env.OTEL_SERVICE_NAME ??= env.WEBSITE_SITE_NAME ?? 'm365-license-sync';
  // The distro would otherwise turn the Azure SDKs' own warnings on, on the console.
  env.APPLICATIONINSIGHTS_INSTRUMENTATION_LOGGING_LEVEL ??= 'ERROR';
  if (!inAzure) {
    // Not from someone's machine: Microsoft's SDK usage statistics and the SDK's remote settings, both of which
    // go to Microsoft endpoints besides the configured one.
    env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED ??= 'true';
    env.APPLICATION_INSIGHTS_NO_STATSBEAT ??= 'true';
    env.APPLICATIONINSIGHTS_SDKSTATS_DISABLED ??= 'true';
  }
  const http = {
    enabled: true,
    ignoreOutgoingRequestHook: (request: { hostname?: string | null }) => isSdkHousekeeping(request.hostname),
  };
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString,
      credential: ingestionCredential(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING),
      disableOfflineStorage: !inAzure,
    },
    // No sampling: every run's spans and log records are kept (a run is a handful of spans and lines).
    // tracesPerSecond would otherwise rate-limit traces to 5/s, and logs are sampled with their trace.
    samplingRatio: 1,
    tracesPerSecond: 0,
    enableTraceBasedSamplingForLogs: false,
    enableLiveMetrics: inAzure,
    enablePerformanceCounters: inAzure,
    // Storage calls are traced as HTTP dependencies (with their status code). The Azure SDK's own spans would
    // double them and record every expected 404 of a point read as an exception.
    instrumentationOptions: { http, azureSdk: { enabled: false } },
  });
  // Ties each invocation to the host's trace and tells the host the worker sends its own telemetry (the local
  // host runs no @azure/functions hooks, so there it would do nothing).
  // fetch (undici) is what the Graph client uses; the distro instruments only node:http(s).
  registerInstrumentations({
    instrumentations: [
      new UndiciInstrumentation({
        ignoreRequestHook: (request) => isSdkHousekeeping(new URL(request.origin).hostname),
      }),
      ...(inAzure ? [new AzureFunctionsInstrumentation()] : []),
    ],
  });
  return (mode = wanted);
}

interface Flushable {
  forceFlush?(): Promise<void>;
  getDelegate?(): Flushable;
}

/** Exports what is buffered now (spans, log records, metrics) without stopping. */
export async function flushTelemetry(): Promise<void> {
  if (telemetryMode() === 'off') return;
  const tracerProvider = trace.getTracerProvider() as Flushable;
  const providers = [
    tracerProvider.getDelegate?.() ?? tracerProvider,
    metrics.getMeterProvider() as Flushable,
    logs.getLoggerProvider() as Flushable,
  ];
  for (const provider of providers) await provider.forceFlush?.().catch(() => undefined);
}

/** Flushes and stops the exporters (the local app's stop). */
export async function stopTelemetry(): Promise<void> {
  if (telemetryMode() === 'off') return;
  await flushTelemetry();
  await shutdownAzureMonitor().catch(() => undefined);
}
