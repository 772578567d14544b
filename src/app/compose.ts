import { loadSettings, type Settings } from '../config/settings';
import type { Logger, Services } from '../domain/ports';
import { createTenantReader } from '../graph/reader';
import { createLedger } from '../ledger';
import { createAuditTrail } from '../ledger/audit';
import { createConsentStateStore } from '../ledger/consentStates';
import { createSecretStore } from '../secrets';
import { SkuNameCatalogLoader } from '../skus';
import { createNotificationQueue } from '../storage/notificationQueue';
import { createRunQueue } from '../storage/runQueue';
import { withTelemetry } from '../telemetry';

/** Adapters a caller supplies instead of the real ones (the local host's file secret store, a test's fake). */
export type ServiceOverrides = Partial<
  Pick<Services, 'secrets' | 'openTenant' | 'runQueue' | 'notificationQueue' | 'now' | 'resolveHost'>
>;

const consoleLogger: Logger = {
  info: (message, properties) => console.info(message, properties ?? ''),
  warn: (message, properties) => console.warn(message, properties ?? ''),
  error: (message, properties) => console.error(message, properties ?? ''),
};

/** The composition root: real adapters for every port, from the operator settings. */
export async function createServices(
  settings: Settings,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  // The secret store first: in Azure without a vault it refuses to start (see createSecretStore).
  const secrets = overrides.secrets ?? createSecretStore(settings, logger);
  const ledger = await createLedger(settings);
  const planNames = new SkuNameCatalogLoader(settings, { logger });
  return {
    settings,
    ledger,
    secrets,
    planNames: () => planNames.load(),
    openTenant: overrides.openTenant ?? ((portal, secret) => createTenantReader(portal, secret, settings)),
    runQueue: overrides.runQueue ?? createRunQueue(settings),
    notificationQueue: overrides.notificationQueue ?? createNotificationQueue(settings),
    audit: createAuditTrail(settings),
    consentStates: createConsentStateStore(settings),
    logger,
    now: overrides.now ?? (() => new Date()),
    ...(overrides.resolveHost ? { resolveHost: overrides.resolveHost } : {}),
  };
}

let provided: Promise<Services> | undefined;
let made: Promise<Services> | undefined;

/**
 * The services this process serves with, made once on first use from the environment's settings. Every function
 * file asks here. A failed start (e.g. bad settings) does not stick: the next invocation tries again.
 */
export function appServices(): Promise<Services> {
  if (provided) return provided;
  if (!made) {
    const attempt = Promise.resolve().then(() =>
      createServices(loadSettings(process.env), withTelemetry(consoleLogger)),
    );
    attempt.catch(() => {
      if (made === attempt) made = undefined;
    });
    made = attempt;
  }
  return made;
}

/** The local host and tests serve with services of their own: set before the functions run. */
export function provideServices(services: Services | Promise<Services>): void {
  provided = Promise.resolve(services);
}
