import {
  app,
  output,
  type HttpHandler,
  type HttpMethod,
  type InvocationContext,
  type StorageQueueOutput,
  type Timer,
} from '@azure/functions';
import { withRequestTelemetry } from '../telemetry';

/**
 * Every function of the app is declared here once. `define*` registers it with the Azure Functions host (which
 * `@azure/functions` skips outside the real host, in "test mode") and records the same definition, so the local
 * host (src/local/) wires exactly the same triggers, routes and handlers.
 */

export interface HttpDefinition {
  kind: 'http';
  name: string;
  /** Route under /api, with {param} and {*rest} segments as in Azure Functions. */
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function' | 'admin';
  handler: HttpHandler;
}

export interface TimerDefinition {
  kind: 'timer';
  name: string;
  /** NCRONTAB with seconds (six fields). */
  schedule: string;
  /** Messages the handler sets on this output go to `queueName` (a timer without an output has neither). */
  queueOutput?: StorageQueueOutput;
  queueName?: string;
  handler: (timer: Timer, context: InvocationContext) => Promise<void>;
}

export interface QueueDefinition {
  kind: 'queue';
  name: string;
  queueName: string;
  /** The handler gets the decoded JSON message; context.triggerMetadata.dequeueCount counts deliveries. */
  handler: (message: unknown, context: InvocationContext) => Promise<void>;
}

export type FunctionDefinition = HttpDefinition | TimerDefinition | QueueDefinition;

// Responses stream to the client as the handler writes them (a CSV export of a long list) instead of being
// collected whole first; needs Functions host 4.28 or later. Request bodies are still read whole (64 KiB cap).
app.setup({ enableHttpStream: true });

const definitions: FunctionDefinition[] = [];

export function registeredFunctions(): readonly FunctionDefinition[] {
  return definitions;
}

export function defineHttp(definition: Omit<HttpDefinition, 'kind'>): HttpDefinition {
  const def: HttpDefinition = { kind: 'http', ...definition };
  const handler = withRequestTelemetry(def.route, def.handler);
  const traced: HttpDefinition = { ...def, handler };
  definitions.push(traced);
  app.http(def.name, { route: def.route, methods: def.methods, authLevel: def.authLevel, handler });
  return traced;
}

export function runQueueOutput(queueName: string): StorageQueueOutput {
  return output.storageQueue({ queueName, connection: 'AzureWebJobsStorage' });
}

export function defineTimer(definition: Omit<TimerDefinition, 'kind'>): TimerDefinition {
  const def: TimerDefinition = { kind: 'timer', ...definition };
  definitions.push(def);
  app.timer(def.name, {
    schedule: def.schedule,
    runOnStartup: false,
    useMonitor: true,
    extraOutputs: def.queueOutput ? [def.queueOutput] : [],
    handler: def.handler,
  });
  return def;
}

export function defineQueue(definition: Omit<QueueDefinition, 'kind'>): QueueDefinition {
  const def: QueueDefinition = { kind: 'queue', ...definition };
  definitions.push(def);
  app.storageQueue(def.name, {
    queueName: def.queueName,
    connection: 'AzureWebJobsStorage',
    handler: (message, context) => def.handler(message, context),
  });
  return def;
}
