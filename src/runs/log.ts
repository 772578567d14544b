import type { InvocationContext } from '@azure/functions';
import type { Logger } from '../domain/ports';
import { withTelemetry } from '../telemetry';

export interface RunLogIds {
  portalId?: string;
  runId?: string;
  trigger?: string;
  /** The delivery of the run message (1 for the first). */
  attempt?: number;
}

function suffix(properties: Record<string, unknown>): string {
  const ids = ['portalId', 'runId']
    .filter((key) => typeof properties[key] === 'string')
    .map((key) => `${key}=${String(properties[key])}`);
  return ids.length ? ` [${ids.join(' ')}]` : '';
}

/**
 * A Logger that writes through the invocation's context (so Application Insights ties each line to its
 * invocation) and stamps every line with the run's portal id and run id as `portalId=... runId=...` in the text.
 * With telemetry on, each line is a log record whose attributes are the ids and the line's properties
 * (context.log would flatten them into the text: customDimensions.portalId, .errorCode... come from here).
 */
export function invocationLogger(context: InvocationContext, ids: RunLogIds = {}): Logger {
  const write = (level: 'info' | 'warn' | 'error') => (message: string, properties?: Record<string, unknown>) => {
    const merged: Record<string, unknown> = { ...ids, ...properties };
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    context[level](`${message}${suffix(merged)}`, merged);
  };
  return withTelemetry({ info: write('info'), warn: write('warn'), error: write('error') }, { ...ids });
}
