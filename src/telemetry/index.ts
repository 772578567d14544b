export { annotateRequest, withRequestTelemetry } from './http';
export { withTelemetry } from './logs';
export { METRICS, RUN_FINISHED_EVENT, SPANS } from './names';
export { observeRun, recordLicenseStock, recordRunOutcome, type LicenseStock, type RunAttributes } from './run';
export { traceStep, tracedReader } from './spans';
export { flushTelemetry, startTelemetry, stopTelemetry, telemetryMode } from './start';
