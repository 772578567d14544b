/**
 * Every name the app's telemetry uses in Application Insights: metric names (customMetrics.name), the custom
 * event of a run's outcome (customEvents.name), span names, and the attribute keys (customDimensions.*). The
 * workbook, the alerts and docs/deploy.md query these; test/telemetry checks that they query nothing else.
 */
export const METRICS = {
  runDuration: 'licensesync.run.duration',
  runUsers: 'licensesync.run.users',
  runChanges: 'licensesync.run.changes',
  graphThrottled: 'licensesync.graph.throttled',
  licenseAvailable: 'licensesync.license.available',
  licenseConsumed: 'licensesync.license.consumed',
  licenseAssigned: 'licensesync.license.assigned',
  licenseFree: 'licensesync.license.free',
} as const;

/** One per run outcome (succeeded, failed, skipped, retrying): the record the alerts count, never sampled. */
export const RUN_FINISHED_EVENT = 'licensesync.run.finished';

export const SPANS = {
  run: 'licensesync.run',
  tenantRead: 'licensesync.tenant.read',
  reconcile: 'licensesync.reconcile',
  apply: 'licensesync.apply',
} as const;

/** Attribute keys, as they appear in customDimensions. Values are bounded: no user id or address is one. */
export const DIMENSIONS = [
  'portalId',
  'runId',
  'trigger',
  'attempt',
  'status',
  'errorCode',
  'skuPartNumber',
  'readMode',
  'durationSeconds',
  'usersRead',
  'changes',
  'throttledRetries',
  'graphRequests',
  'read',
  'pages',
  'users',
  'http.route',
  'enduser.id',
] as const;
