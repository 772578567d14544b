import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { openApiPath } from '../../src/api/endpoint';
import { openApiDocument } from '../../src/api/openapi';
import { createServices, provideServices } from '../../src/app/compose';
import type { Logger, Services } from '../../src/domain/ports';
import type { Settings } from '../../src/config/settings';
import { registeredFunctions, type HttpDefinition } from '../../src/host/registry';
import { testSettings } from '../support/env';
import { responseSchemaOf, validate } from './openapiCheck';

// The API's functions register themselves on import, as in the Functions host.
import '../../functions/portals';
import '../../functions/runs';
import '../../functions/licenses';
import '../../functions/contacts';
import '../../functions/openapi';
import '../../functions/insights';
import '../../functions/renewals';
import '../../functions/access';
import '../../functions/alerts';
import '../../functions/consent';

/**
 * Calls the registered HTTP functions the way the Functions host does (HttpRequest and InvocationContext test
 * constructors), over real services (Azurite, the simulator, the local or a fake Key Vault store). Records every
 * log line and response body, for the secret scan, and checks every response against the OpenAPI document.
 */

export interface CallOptions {
  params?: Record<string, string>;
  /** Appended to the URL as the query string, e.g. `?purge=true`. */
  query?: string;
  /** An object is sent as JSON; a string as-is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** A 500 fails the call unless the test expects one. */
  allowServerError?: boolean;
}

export interface CallResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
  headers: Headers;
}

export interface ApiHarness {
  settings: Settings;
  services: Services;
  /** Every log line: the invocations' and the services' logger's. */
  logs: string[];
  /** Every response body as sent. */
  bodies: string[];
  /** Every response, checked against the document: `METHOD path status`. */
  checked: string[];
  call(functionName: string, options?: CallOptions): Promise<CallResult>;
}

function line(args: unknown[]): string {
  return args.map((arg) => (typeof arg === 'string' ? arg : safeJson(arg))).join(' ');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) =>
      v instanceof Error ? { name: v.name, message: v.message, cause: String(v.cause) } : v,
    );
  } catch {
    return String(value);
  }
}

export async function startApi(
  overrides: Partial<Settings> = {},
  adapt?: (services: Services) => Services,
): Promise<ApiHarness> {
  const logs: string[] = [];
  const bodies: string[] = [];
  const checked: string[] = [];
  const settings = testSettings({ dataDir: await mkdtemp(path.join(os.tmpdir(), 'license-sync-api-')), ...overrides });
  const capture =
    (level: string): Logger[keyof Logger] =>
    (message, properties) => {
      logs.push(`${level} ${message} ${safeJson(properties ?? {})}`);
    };
  const logger: Logger = { info: capture('info'), warn: capture('warn'), error: capture('error') };
  const built = await createServices(settings, logger);
  const services = adapt ? adapt(built) : built;
  provideServices(services);
  const doc = openApiDocument() as unknown as Parameters<typeof responseSchemaOf>[0];

  const definitions = new Map(
    registeredFunctions()
      .filter((d): d is HttpDefinition => d.kind === 'http')
      .map((d) => [d.name, d]),
  );

  async function call(functionName: string, options: CallOptions = {}): Promise<CallResult> {
    const definition = definitions.get(functionName);
    if (!definition) throw new Error(`No HTTP function ${functionName}`);
    const method = definition.methods[0]!;
    const params = options.params ?? {};
    const urlPath = definition.route.replace(/\{(\w+)\}/g, (_m, name: string) =>
      encodeURIComponent(params[name] ?? ''),
    );
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const request = new HttpRequest({
      method,
      url: `https://localhost:7071/${urlPath}${options.query ?? ''}`,
      params,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      ...(body !== undefined ? { body: { string: body } } : {}),
    });
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName,
      logHandler: (level, ...args) => logs.push(`${level} ${line(args)}`),
    });
    const init = await definition.handler(request, context);
    const response = init instanceof HttpResponse ? init : new HttpResponse(init);
    // Not response.text(): it drops a leading BOM, which a CSV response must carry.
    const text = Buffer.from(await response.arrayBuffer()).toString('utf8');
    bodies.push(text);
    if (response.status >= 500 && !options.allowServerError) {
      throw new Error(
        `${method} ${definition.route} answered ${response.status}: ${text}\n${logs.slice(-5).join('\n')}`,
      );
    }

    // Every real response must be one the document describes, and its body must validate.
    const route = openApiPath(definition.route);
    const described = responseSchemaOf(doc, route, method, response.status);
    if (!described.documented)
      throw new Error(
        `${method} ${route} answered ${response.status}, which the OpenAPI document does not list: ${text}`,
      );
    const csv = response.headers.get('content-type')?.startsWith('text/csv') ?? false;
    if (csv && !described.csv)
      throw new Error(
        `${method} ${route} answered ${response.status} as CSV, which the OpenAPI document does not list`,
      );
    const parsed: unknown = text && !csv ? JSON.parse(text) : undefined;
    if (csv) {
      // The CSV's own tests check its content.
    } else if (described.schema) {
      const problems = validate(doc, described.schema, parsed);
      if (problems.length)
        throw new Error(
          `${method} ${route} ${response.status} does not match the OpenAPI document: ${problems.join('; ')}`,
        );
    } else if (text) {
      throw new Error(`${method} ${route} ${response.status} has a body the document does not describe`);
    }
    checked.push(`${method} ${route} ${response.status}`);
    return { status: response.status, body: parsed, text, headers: response.headers };
  }

  return { settings, services, logs, bodies, checked, call };
}

/** Fails with the places where any of the secrets shows up (never printing the secret itself). */
export function expectNoSecrets(haystacks: Record<string, readonly string[]>, secrets: readonly string[]): void {
  const found: string[] = [];
  for (const [where, texts] of Object.entries(haystacks)) {
    texts.forEach((text, index) => {
      secrets.forEach((secret, secretIndex) => {
        if (secret && text.includes(secret)) found.push(`${where}[${index}] holds secret #${secretIndex}`);
      });
    });
  }
  if (found.length) throw new Error(`Secrets leaked: ${found.join(', ')}`);
}

/** The pieces of a PEM worth scanning for: every base64 line of it (a partial leak still shows). */
export function pemFragments(pem: string): string[] {
  return pem.split(/\r?\n/).filter((lineText) => lineText.length >= 40 && !lineText.startsWith('-----'));
}
