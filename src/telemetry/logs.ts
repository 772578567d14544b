import { context, createContextKey } from '@opentelemetry/api';
import { logs, SeverityNumber, type AnyValueMap } from '@opentelemetry/api-logs';
import type { Logger } from '../domain/ports';
import { telemetryMode } from './start';

type Level = keyof Logger;

const SEVERITY: Record<Level, SeverityNumber> = {
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

/** Attribute values must be primitives or arrays of them; anything else is sent as its JSON text. */
export function toAttributes(properties: Record<string, unknown>): AnyValueMap {
  const attributes: AnyValueMap = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value === undefined || value === null) continue;
    const primitive = ['string', 'number', 'boolean'].includes(typeof value);
    const flat = Array.isArray(value) && value.every((item) => ['string', 'number', 'boolean'].includes(typeof item));
    attributes[key] = primitive || flat ? (value as string) : JSON.stringify(value);
  }
  return attributes;
}

/** The run's attributes in the active context: a line logged during a run by any logger carries them. */
export const RUN_ATTRIBUTES = createContextKey('licensesync.run.attributes');

/** Emits one OpenTelemetry log record, in the active span's context (so it joins the run's transaction). */
export function emitLogRecord(level: Level, message: string, properties: Record<string, unknown> = {}): void {
  logs.getLogger('m365-license-sync').emit({
    severityNumber: SEVERITY[level],
    severityText: level === 'warn' ? 'WARN' : level.toUpperCase(),
    body: message,
    attributes: toAttributes({ ...(context.active().getValue(RUN_ATTRIBUTES) as object | undefined), ...properties }),
  });
}

/**
 * The logger with telemetry: each line also becomes a log record whose attributes are `attributes` plus the
 * line's properties (customDimensions in Application Insights). In the Functions worker the record replaces the
 * line (context.log would reach Application Insights a second time, as text only); elsewhere the line still goes
 * to `logger` for the console. Without telemetry: `logger` itself.
 */
export function withTelemetry(logger: Logger, attributes: Record<string, unknown> = {}): Logger {
  const current = telemetryMode();
  if (current === 'off') return logger;
  const write = (level: Level) => (message: string, properties?: Record<string, unknown>) => {
    emitLogRecord(level, message, { ...attributes, ...properties });
    if (current !== 'functions') logger[level](message, properties);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
