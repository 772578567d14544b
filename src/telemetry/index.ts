export { annotateRequest, withRequestTelemetry } from './http';
export { withTelemetry, type LoggerShape } from './logs';
export { METRICS, RUN_FINISHED_EVENT, SPANS } from './names';
export {
  observeRun,
  recordLicenseStock,
  recordRunOutcome,
  traceStep,
  tracedReader,
  type LicenseStock,
  type RunAttributes,
} from './run';
export { flushTelemetry, startTelemetry, stopTelemetry, telemetryMode } from './start';
