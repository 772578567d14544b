import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createServices, provideServices, type ServiceOverrides } from '../app/compose';
import type { Logger, Services } from '../domain/ports';
import { loadSettings, type Settings } from '../config/settings';
import type { PortalRecord } from '../domain/records';
import { registeredFunctions } from '../host/registry';
import { createPortal } from '../portals/portals';
import { queueRun } from '../runs/enqueue';
import { LocalSecretStore } from '../secrets';
import { hostSettings, type HostSettings } from '../runs/hostSettings';
import { startTelemetry, stopTelemetry, withTelemetry } from '../telemetry';
import { startAzurite, type AzuriteInstance } from './azurite';
import { startLocalHost, type HostLog, type LocalHost } from './host';
import {
  allowConsentRedirect,
  createSecretlessDemoPortal,
  prepareSecretlessDemo,
  type SecretlessDemo,
} from './demoSecretless';
import { addDemoTenant, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DOMAIN, demoPriceList } from './simulator/demo';
import { demoHistory } from './simulator/demoHistory';
import { recordChange } from '../domain/audit';
import { startSimulator, type Simulator } from './simulator/server';
import { ensureLocalCertificate } from './tls';

/**
 * The local app: storage (Azurite unless AzureWebJobsStorage is set), the simulated demo tenant, the services,
 * every function module, and the local host serving them. `npm start` (start.ts) and tests use it.
 *
 * Local-only settings, besides those of src/config/settings.ts:
 * - `LICENSE_SYNC_STORAGE=memory`: Azurite keeps its data in memory (tests); default: `<dataDir>/azurite`.
 * - `LICENSE_SYNC_FUNCTION_KEY`: the key non-anonymous routes require in `x-functions-key`; default: none. Implies
 *   LICENSE_SYNC_AUTH=key unless that is set.
 * - `LICENSE_SYNC_AUTH=easyauth`: requests carry their own `x-ms-client-principal` (the settable principal of
 *   tests); without one the API answers 401, as behind App Service Authentication.
 * - `LICENSE_SYNC_LOCAL_RETRY_DELAY`: seconds before a failed message is retried (host.json's visibilityTimeout).
 * - `LICENSE_SYNC_LOCAL_MESSAGE_LEASE`: seconds a message stays hidden while it runs, i.e. how soon the message
 *   of a killed app is delivered again (default 60; the Functions host uses 10 minutes).
 * - `LICENSE_SYNC_LOCAL_POLL_INTERVAL`: longest wait between polls of an empty queue (host.json's maxPollingInterval).
 */

export const DEMO_PORTAL_NAME = 'Demo - Contoso (simulated)';

/** A start-up failure with a message that says what to do; shown without a stack trace. */
export class LocalStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalStartError';
  }
}

function endpointOf(settings: Settings): string {
  const fromString = /(?:QueueEndpoint|TableEndpoint)=([^;]+)/i.exec(settings.storage.connectionString ?? '')?.[1];
  return (
    fromString ??
    settings.storage.tableServiceUri ??
    settings.storage.queueServiceUri ??
    'the configured storage account'
  );
}

export interface LocalAppOptions {
  /** Settings as environment variables; they are applied to process.env (the function modules read it). */
  env?: NodeJS.ProcessEnv;
  /** Makes the services (src/app/compose.ts's createServices by default; a test may wrap it). */
  servicesFactory?: (settings: Settings, logger: Logger, overrides: ServiceOverrides) => Promise<Services>;
  /** Certificate of the demo simulator; default: made in `<dataDir>/tls`. The process must trust it. */
  tls?: { cert: string; key: string };
  log?: HostLog;
}

export interface StorageInfo {
  kind: 'azurite' | 'configured';
  /** Azurite's data folder; undefined when in memory or not Azurite. */
  location?: string;
  inMemory: boolean;
}

export interface LocalApp {
  url: string;
  port: number;
  settings: Settings;
  services: Services;
  host: LocalHost;
  hostSettings: HostSettings;
  storage: StorageInfo;
  /** The demo: the simulator and, when this start created it, the demo portal and its first run. */
  demo?: { simulatorUrl: string; portal?: PortalRecord; firstRunId?: string; secretlessPortal?: PortalRecord };
  stop(): Promise<void>;
}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of seconds, not "${raw}".`);
  return value * 1000;
}

function hostSettingsWithOverrides(env: NodeJS.ProcessEnv): HostSettings {
  const base = hostSettings();
  const retry = seconds(env, 'LICENSE_SYNC_LOCAL_RETRY_DELAY');
  const poll = seconds(env, 'LICENSE_SYNC_LOCAL_POLL_INTERVAL');
  return {
    ...base,
    queues: {
      ...base.queues,
      ...(retry !== undefined ? { visibilityTimeoutMs: retry } : {}),
      ...(poll !== undefined ? { maxPollingIntervalMs: Math.max(100, poll) } : {}),
    },
  };
}

function loggerFrom(log: HostLog): Logger {
  const line = (message: string, properties?: Record<string, unknown>) => {
    const pairs = Object.entries(properties ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    return `[app] ${[message, ...pairs].join(' ')}`;
  };
  return {
    info: (message, properties) => log('information', line(message, properties)),
    warn: (message, properties) => log('warning', line(message, properties)),
    error: (message, properties) => log('error', line(message, properties)),
  };
}

const defaultLog: HostLog = (level, text) => {
  const stamp = new Date().toISOString().slice(11, 19);
  const out =
    level === 'error' || level === 'critical' ? console.error : level === 'warning' ? console.warn : console.log;
  out(`${stamp} ${text}`);
};

/** Where the compiled (or, under ts-jest, the source) function modules are. */
function functionModules(): string[] {
  const dir = path.resolve(__dirname, '../../functions');
  const ext = path.extname(__filename);
  return readdirSync(dir)
    .filter((file) => file.endsWith(ext) && !file.endsWith(`.test${ext}`) && !file.endsWith('.d.ts'))
    .sort()
    .map((file) => path.join(dir, file));
}

/** Loads every function module once; @azure/functions' "test mode" warnings about skipped registration are dropped. */
function loadFunctions(): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('WARNING: ') && args[0].includes('test mode')) return;
    warn(...args);
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    for (const file of functionModules()) require(file);
  } finally {
    console.warn = warn;
  }
}

/** The demo portal goes through the same use case as a portal created over the API. */
/** Who the audit trail names for what the local host sets up for the demo (no person did it). */
const DEMO_ACTOR = { name: 'demo set-up (local host)' };

function createDemoPortal(services: Services): Promise<PortalRecord> {
  return createPortal(services, {
    name: DEMO_PORTAL_NAME,
    tenantId: DEMO_DOMAIN,
    clientId: DEMO_CLIENT_ID,
    cloud: 'simulated',
    active: true,
    autoSync: true,
    activity: true,
    auth: { kind: 'clientSecret', clientSecret: DEMO_CLIENT_SECRET },
  });
}

/**
 * Starts the whole app on this machine. Throws a clear error when storage cannot start or the port is taken
 * (PortInUseError); whatever it had started by then is stopped again.
 */
export async function startLocalApp(options: LocalAppOptions = {}): Promise<LocalApp> {
  const log = options.log ?? defaultLog;
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // A local function key means the operator wants Azure's key check: every key holder is an admin.
  if (env.LICENSE_SYNC_FUNCTION_KEY && !env.LICENSE_SYNC_AUTH) env.LICENSE_SYNC_AUTH = 'key';
  const initial = loadSettings(env);
  const cleanup: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      for (const step of [...cleanup].reverse()) await step().catch(() => undefined);
    })();
    return stopping;
  };

  try {
    // ---- storage
    const configured = Boolean(
      initial.storage.connectionString || initial.storage.tableServiceUri || initial.storage.queueServiceUri,
    );
    let storage: StorageInfo;
    if (configured) {
      storage = { kind: 'configured', inMemory: false };
    } else {
      const inMemory = (env.LICENSE_SYNC_STORAGE ?? '').toLowerCase() === 'memory';
      const location = inMemory ? undefined : path.join(initial.dataDir, 'azurite');
      let azurite: AzuriteInstance;
      try {
        azurite = await startAzurite({ location });
      } catch (error) {
        throw new LocalStartError(
          `Local storage (Azurite) could not start${location ? ` with its data in ${location}` : ''}: ${(error as Error).message}\n` +
            'Check that the folder is writable (LICENSE_SYNC_DATA_DIR moves it), or point AzureWebJobsStorage at a storage account.',
        );
      }
      cleanup.push(() => azurite.stop());
      env.AzureWebJobsStorage = azurite.connectionString;
      storage = { kind: 'azurite', location, inMemory };
    }
    // The function modules and anything else reading the environment see the same settings.
    for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
    const settings = loadSettings(process.env);
    // npm start started it already (src/telemetry/local.ts); this covers an app started in-process.
    if (startTelemetry(process.env, 'local') !== 'off') cleanup.push(stopTelemetry);

    // ---- the simulated demo tenant
    let simulator: Simulator | undefined;
    let secretless: SecretlessDemo | undefined;
    if (settings.demo) {
      const tls = options.tls ?? (await ensureLocalCertificate(path.join(settings.dataDir, 'tls')));
      simulator = await startSimulator({ cert: tls.cert, key: tls.key });
      cleanup.push(() => simulator!.close());
      addDemoTenant(simulator);
      settings.simulator = { authorityHost: simulator.authorityHost, graphEndpoint: simulator.graphEndpoint };
      secretless = prepareSecretlessDemo(simulator, settings);
    }

    // ---- services, shared by every function of this process
    // The queue's send wakes the host's listener; the host starts after the services it serves.
    const started: { host?: LocalHost } = {};
    let made: Services;
    try {
      // A local run keeps portal secrets in its data folder, unless the operator pointed it at a Key Vault.
      const secrets = settings.keyVaultUrl ? undefined : new LocalSecretStore(settings.dataDir);
      made = await (options.servicesFactory ?? createServices)(settings, withTelemetry(loggerFrom(log)), { secrets });
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      throw new LocalStartError(
        storage.kind === 'azurite'
          ? `Azurite started but its storage cannot be used (${reason}).`
          : `The storage of AzureWebJobsStorage (${endpointOf(settings)}) cannot be reached (${reason}). Start it, fix the setting, or unset AzureWebJobsStorage so that npm start runs Azurite.`,
        { cause: error },
      );
    }
    const sendRun = made.runQueue.send.bind(made.runQueue);
    const sendDelivery = made.notificationQueue.send.bind(made.notificationQueue);
    const services: Services = {
      ...made,
      // "Sync now" wakes the local queue listener at once, as the host does for messages its own app sent.
      runQueue: {
        send: async (message) => {
          await sendRun(message);
          started.host?.notifyQueue(settings.queueName);
        },
      },
      notificationQueue: {
        send: async (message) => {
          await sendDelivery(message);
          started.host?.notifyQueue(settings.notificationQueueName);
        },
      },
    };
    provideServices(services);

    // ---- functions and the host
    loadFunctions();
    const hostConfig = hostSettingsWithOverrides(env);
    const lease = seconds(env, 'LICENSE_SYNC_LOCAL_MESSAGE_LEASE');
    const host = await startLocalHost({
      definitions: registeredFunctions(),
      settings,
      host: hostConfig,
      port: settings.port,
      functionKey: env.LICENSE_SYNC_FUNCTION_KEY || undefined,
      passClientPrincipal: settings.auth === 'easyauth',
      messageLeaseMs: lease,
      log,
    });
    started.host = host;
    cleanup.push(() => host.stop());
    // The consent redirect comes back to where this host really listens (PORT may have been 0).
    if (!env.LICENSE_SYNC_PUBLIC_URL) settings.federation.publicUrl = host.url.replace(/\/+$/, '');
    if (secretless) allowConsentRedirect(secretless, settings);

    // ---- the demo portal, when the store is empty
    let demo: LocalApp['demo'];
    if (simulator) {
      demo = { simulatorUrl: simulator.url };
      if ((await services.ledger.portals.list()).length === 0) {
        const portal = await createDemoPortal(services);
        await recordChange(services, DEMO_ACTOR, {
          action: 'portal.create',
          target: `portals/${portal.id}`,
          summary: `Created the demo portal access "${portal.name}" against the simulated tenant`,
        });
        for (const { skuId, price } of demoPriceList()) {
          await services.ledger.prices.putPlanPrice(skuId, price);
          await recordChange(services, DEMO_ACTOR, {
            action: 'price.set',
            target: `prices/${skuId}`,
            summary: `Set the demo's plan price to ${price.amount} ${price.currency} a ${price.period}`,
          });
        }
        // A year of weekly snapshots before today: the history chart and the licensed-users report show a trend.
        for (const day of demoHistory(services.now()))
          await services.ledger.history.putDay(portal.id, day.licenses, day.portal);
        const run = await queueRun(services, portal.id, 'manual');
        demo = { ...demo, portal, firstRunId: run.id };
        if (secretless) {
          const secretlessPortal = await createSecretlessDemoPortal(services, secretless);
          await recordChange(services, DEMO_ACTOR, {
            action: 'portal.create',
            target: `portals/${secretlessPortal.id}`,
            summary: `Created the secretless demo portal access "${secretlessPortal.name}" (federated, no secret)`,
          });
          await queueRun(services, secretlessPortal.id, 'manual');
          demo = { ...demo, secretlessPortal };
        }
      }
    }

    return {
      url: host.url,
      port: host.port,
      settings,
      services,
      host,
      hostSettings: hostConfig,
      storage,
      demo,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
