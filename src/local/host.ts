import {
  HttpRequest,
  HttpResponse,
  InvocationContext,
  type HttpResponseInit,
  type LogLevel,
  type Timer,
} from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadableStream } from 'node:stream/web';
import { inspect } from 'node:util';
import type { Settings } from '../config/settings';
import type { FunctionDefinition, HttpDefinition, QueueDefinition, TimerDefinition } from '../host/registry';
import type { HostSettings } from '../runs/hostSettings';
import { encodeQueueMessage } from '../storage/runQueue';
import { newQueueClient, poisonQueueName } from '../storage/clients';
import { QueueListener, type QueueTriggerMetadata } from './queueListener';
import { RouteTable } from './routes';
import { TimerScheduler } from './timerScheduler';

/**
 * Over 300 lines on purpose: the host's HTTP, timer and queue dispatch share one lifecycle (start, stop, logs) and
 * read as one unit; the queue listener, routes and timer scheduler are already modules of their own.
 *
 * The local Functions host: serves the registered functions on this machine the way the Azure Functions host
 * does (HTTP routes, the timer on its NCRONTAB schedule with its queue output, queue triggers with host.json's
 * retry and poison-queue behaviour), over the same definitions (src/host/registry.ts).
 */

export interface HostLog {
  /** One line of output; `level` is the Functions log level. */
  (level: LogLevel, line: string): void;
}

export interface LocalHostOptions {
  definitions: readonly FunctionDefinition[];
  /** Storage of the queues (settings.storage). */
  settings: Pick<Settings, 'storage'>;
  host: HostSettings;
  /** 0 picks a free port. Only 127.0.0.1 is served. */
  port: number;
  /** When set, non-anonymous routes need it in `x-functions-key` (or `?code=`), as in Azure. */
  functionKey?: string;
  /**
   * Pass a request's own `x-ms-client-principal` on to the functions: the settable principal of local runs with
   * LICENSE_SYNC_AUTH=easyauth. Otherwise the host drops `x-ms-client-principal*` headers, as App Service does
   * with those a client sends.
   */
  passClientPrincipal?: boolean;
  /** Largest request body accepted (413 above it). */
  maxBodyBytes?: number;
  /** How long a queue message stays hidden while its handler runs (renewed); see QueueListenerOptions. */
  messageLeaseMs?: number;
  /** How long `stop()` waits for running functions. */
  shutdownGraceMs?: number;
  /** Start the timers and queue listeners (on by default); HTTP is always served. */
  triggers?: boolean;
  log?: HostLog;
}

export interface LocalHost {
  url: string;
  port: number;
  /** The next occurrence of each timer. */
  timers(): { name: string; schedule: string; next: Date }[];
  /** Runs a timer function now, as if its schedule fired. */
  runTimer(name: string): Promise<void>;
  /** Polls the queue now: a message was just sent to it by this process (the host does the same). */
  notifyQueue(queueName: string): void;
  /** Functions running now (HTTP requests and queue messages). */
  busy(): number;
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MESSAGE_LEASE_MS = 60_000;

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(
      `Port ${port} is already in use on 127.0.0.1. Stop whatever is using it (another \`npm start\` or \`func start\`?) or choose another port with PORT=<port>.`,
    );
    this.name = 'PortInUseError';
  }
}

const defaultLog: HostLog = (level, line) => {
  const stamp = new Date().toISOString().slice(11, 19);
  const out =
    level === 'error' || level === 'critical' ? console.error : level === 'warning' ? console.warn : console.log;
  out(`${stamp} ${line}`);
};

/** An error with a stable code (AppError) is expected and explains itself; anything else gets its stack. */
function describeError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}: ${error.message}` : (error.stack ?? error.message);
}

function formatArgs(args: unknown[]): string {
  const [first, ...rest] = args;
  const text =
    typeof first === 'string'
      ? first
      : first instanceof Error
        ? describeError(first)
        : inspect(first, { depth: 4, breakLength: Infinity });
  const extras = rest.map((arg) => {
    if (arg && typeof arg === 'object' && !(arg instanceof Error)) {
      // Properties already in the text (e.g. portalId=...) are not repeated.
      const pairs = Object.entries(arg as Record<string, unknown>)
        .filter(
          ([key, value]) =>
            value !== undefined &&
            !text.includes(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`),
        )
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
      return pairs.join(' ');
    }
    return arg instanceof Error ? describeError(arg) : String(arg);
  });
  return [text, ...extras].filter((part) => part.length > 0).join(' ');
}

function levelTag(level: LogLevel): string {
  return level === 'information' ? '' : ` ${level.toUpperCase()}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function requestHeaders(req: IncomingMessage, passClientPrincipal: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (!passClientPrincipal && name.startsWith('x-ms-client-principal')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function serializeCookie(cookie: HttpResponse['cookies'][number]): string {
  const parts = [`${cookie.name}=${encodeURIComponent(cookie.value)}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

async function writeResponse(
  res: ServerResponse,
  result: HttpResponseInit | HttpResponse | undefined,
): Promise<number> {
  const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
  const streamed = isStreamedBody(result);
  const body = streamed ? undefined : Buffer.from(await response.arrayBuffer());
  res.statusCode = response.status;
  const setCookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  if (setCookies.length) res.setHeader('set-cookie', setCookies);
  if (body) {
    res.setHeader('content-length', body.length);
    res.end(body);
  } else if (response.body) {
    // As Azure does with HTTP streams on: chunked, each chunk sent as the handler makes it. A failure mid-way
    // aborts the connection, so the client sees the response incomplete rather than a short file.
    await pipeline(Readable.fromWeb(response.body), res);
  } else {
    res.end();
  }
  return response.status;
}

/** The request's path and query for the log, without `code` (the function key, as Azure accepts it). */
export function loggableUrl(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  if (query < 0) return raw;
  const params = new URLSearchParams(raw.slice(query + 1));
  params.delete('code');
  const rest = params.toString();
  return `${raw.slice(0, query)}${rest ? `?${rest}` : ''}`;
}

/** A body the handler makes as it goes (a stream or an async iterable), not one already in memory. */
function isStreamedBody(result: HttpResponseInit | HttpResponse | undefined): boolean {
  if (result instanceof HttpResponse) return true;
  const body = result?.body;
  return typeof body === 'object' && body !== null && (Symbol.asyncIterator in body || body instanceof ReadableStream);
}

function plain(res: ServerResponse, status: number, message: string): number {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(
    JSON.stringify({
      error: {
        code:
          status === 401
            ? 'unauthorized'
            : status === 413
              ? 'payload_too_large'
              : status === 404
                ? 'not_found'
                : status === 421
                  ? 'misdirected_request'
                  : 'bad_request',
        message,
      },
    }),
  );
  return status;
}

/** Starts the host: HTTP on 127.0.0.1, then (unless `triggers: false`) the timers and queue listeners. */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? defaultLog;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const messageLeaseMs = options.messageLeaseMs ?? DEFAULT_MESSAGE_LEASE_MS;
  const httpDefs = options.definitions.filter((def): def is HttpDefinition => def.kind === 'http');
  const timerDefs = options.definitions.filter((def): def is TimerDefinition => def.kind === 'timer');
  const queueDefs = options.definitions.filter((def): def is QueueDefinition => def.kind === 'queue');
  let running = 0;

  const contextFor = (def: FunctionDefinition, triggerMetadata?: Record<string, unknown>): InvocationContext => {
    const invocationId = randomUUID();
    return new InvocationContext({
      invocationId,
      functionName: def.name,
      triggerMetadata,
      logHandler: (level, ...args) => log(level, `[${def.name}]${levelTag(level)} ${formatArgs(args)}`),
      options: {
        trigger: {
          type: def.kind === 'http' ? 'httpTrigger' : def.kind === 'timer' ? 'timerTrigger' : 'queueTrigger',
          name: 'trigger',
        },
        extraOutputs: def.kind === 'timer' && def.queueOutput ? [def.queueOutput] : [],
      },
    });
  };

  // ---- queues
  const queueClients = new Map<string, Promise<QueueClient>>();
  const queueClient = (name: string): Promise<QueueClient> => {
    let pending = queueClients.get(name);
    if (!pending) {
      pending = (async () => {
        const client = newQueueClient({ storage: options.settings.storage, queueName: name });
        await client.createIfNotExists();
        return client;
      })();
      pending.catch(() => queueClients.delete(name));
      queueClients.set(name, pending);
    }
    return pending;
  };

  const listeners = new Map<string, QueueListener>();
  const notifyQueue = (name: string): void => listeners.get(name)?.wake();

  // ---- timers
  const runTimerDef = async (def: TimerDefinition, timer: Timer): Promise<void> => {
    const context = contextFor(def);
    const started = Date.now();
    running += 1;
    try {
      await def.handler(timer, context);
      const output = def.queueOutput ? context.extraOutputs.get(def.queueOutput) : undefined;
      const items = output === undefined || output === null ? [] : Array.isArray(output) ? output : [output];
      if (items.length > 0 && def.queueName) {
        const queue = await queueClient(def.queueName);
        for (const item of items) await queue.sendMessage(encodeQueueMessage(item));
        notifyQueue(def.queueName);
      }
      log(
        'information',
        `[${def.name}] Executed (Succeeded, ${Date.now() - started} ms${items.length ? `, ${items.length} message(s) to ${def.queueName}` : ''})`,
      );
    } catch (error) {
      log('error', `[${def.name}] Executed (Failed, ${Date.now() - started} ms): ${formatArgs([error])}`);
      throw error;
    } finally {
      running -= 1;
    }
  };

  const schedulers = timerDefs.map((def) => ({
    def,
    scheduler: new TimerScheduler(
      def.schedule,
      async (tick) => {
        const now = new Date().toISOString();
        await runTimerDef(def, {
          isPastDue: tick.isPastDue,
          schedule: { adjustForDST: true },
          scheduleStatus: { last: tick.last?.toISOString() ?? now, next: tick.next.toISOString(), lastUpdated: now },
        });
      },
      (due) =>
        log(
          'warning',
          `[${def.name}] WARNING Skipped the occurrence of ${due.toISOString()}: the previous run is still going.`,
        ),
    ),
  }));

  // ---- HTTP
  let port = options.port;
  const routes = new RouteTable<HttpDefinition>();
  for (const def of httpDefs) routes.add(def.route, def);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const method = (req.method ?? 'GET').toUpperCase();
    // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 reaches this port with its own
    // name in Host. Only this machine's names for this port are served.
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      req.resume();
      return plain(res, 421, `This app answers only at 127.0.0.1:${port} or localhost:${port}.`);
    }
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', base);
    } catch {
      return plain(res, 400, 'Malformed request URL.');
    }
    const match = routes.match(url.pathname, (def) => def.methods.some((m) => m.toUpperCase() === method));
    if (!match) {
      req.resume();
      return plain(res, 404, `No function serves ${method} ${url.pathname}.`);
    }
    const def = match.target;
    if (def.authLevel !== 'anonymous' && options.functionKey) {
      const given = req.headers['x-functions-key'] ?? url.searchParams.get('code') ?? '';
      if (!safeEqual(String(given), options.functionKey)) {
        req.resume();
        return plain(res, 401, 'A valid function key is required in the x-functions-key header.');
      }
    }
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return plain(res, 413, `The request body is larger than ${maxBodyBytes} bytes.`);
      }
      throw error;
    }
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers: requestHeaders(req, options.passClientPrincipal ?? false),
      body: body.length ? { bytes: body } : undefined,
      params: match.params,
    });
    running += 1;
    try {
      const result = await def.handler(request, contextFor(def));
      return await writeResponse(res, result);
    } catch (error) {
      log('error', `[${def.name}] ERROR Executed (Failed): ${formatArgs([error])}`);
      // A streamed response that failed mid-way: its status is sent; the connection is cut (pipeline did).
      if (res.headersSent) return 500;
      // As in Azure: an unhandled error is a bare 500, no details.
      res.statusCode = 500;
      res.end();
      return 500;
    } finally {
      running -= 1;
    }
  };

  const server = http.createServer((req, res) => {
    const started = Date.now();
    handle(req, res)
      .then((status) => {
        const method = req.method ?? 'GET';
        if (status >= 400 || (method !== 'GET' && method !== 'HEAD')) {
          log(
            status >= 500 ? 'error' : 'information',
            `HTTP ${method} ${loggableUrl(req.url)} ${status} (${Date.now() - started} ms)`,
          );
        }
      })
      .catch((error: unknown) => {
        log('error', `HTTP ${req.method} ${loggableUrl(req.url)} failed: ${formatArgs([error])}`);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
  });
  server.requestTimeout = 5 * 60_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port) : error);
    };
    server.once('error', onError);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  if (options.triggers !== false) {
    for (const def of queueDefs) {
      const listener = new QueueListener({
        functionName: def.name,
        queue: await queueClient(def.queueName),
        poisonQueue: () => queueClient(poisonQueueName(def.queueName)),
        settings: options.host.queues,
        messageLeaseMs,
        log: {
          info: (line) => log('information', line),
          warn: (line) => log('warning', line),
          error: (line) => log('error', line),
        },
        invoke: async (message, metadata: QueueTriggerMetadata) => {
          const context = contextFor(def, { ...metadata });
          const started = Date.now();
          running += 1;
          try {
            await def.handler(message, context);
          } catch (error) {
            log(
              'error',
              `[${def.name}] ERROR Executed (Failed, attempt ${metadata.dequeueCount}, ${Date.now() - started} ms): ${formatArgs([error])}`,
            );
            throw error;
          } finally {
            running -= 1;
          }
          const limit = options.host.functionTimeoutMs;
          if (limit !== undefined && Date.now() - started > limit) {
            log(
              'warning',
              `[${def.name}] WARNING took ${Date.now() - started} ms, longer than host.json's functionTimeout: Azure would have stopped it.`,
            );
          }
        },
      });
      listeners.set(def.queueName, listener);
      listener.start();
    }
    for (const { scheduler } of schedulers) scheduler.start();
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    timers: () =>
      schedulers.map(({ def, scheduler }) => ({ name: def.name, schedule: def.schedule, next: scheduler.next })),
    runTimer: async (name) => {
      const found = schedulers.find(({ def }) => def.name === name);
      if (!found) throw new Error(`No timer function named ${name}`);
      const now = new Date().toISOString();
      await runTimerDef(found.def, {
        isPastDue: false,
        schedule: { adjustForDST: true },
        scheduleStatus: { last: now, next: found.scheduler.next.toISOString(), lastUpdated: now },
      });
    },
    notifyQueue,
    busy: () => running,
    stop: () => {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.all(schedulers.map(({ scheduler }) => scheduler.stop()));
        const grace = options.shutdownGraceMs ?? 10_000;
        const left = await Promise.all([...listeners.values()].map((listener) => listener.stop(grace)));
        const unfinished = left.reduce((sum, n) => sum + n, 0);
        if (unfinished > 0) {
          log(
            'warning',
            `${unfinished} queue message(s) still running at shutdown; they are delivered again once their lease expires.`,
          );
        }
        server.closeAllConnections();
        await closed;
      })();
      return stopping;
    },
  };
}
