import { createAuditTrail } from '../audit/trail';
import type { Settings } from '../config/settings';
import { createTenantReader } from '../graph/reader';
import { createLedger } from '../ledger';
import { createRunQueue } from '../runs/queue';
import { createSecretStore } from '../secrets';
import { SkuNameCatalogLoader } from '../skus';
import { setServicesFactory, type Logger, type Services } from './services';

/** The composition root: real adapters for every port, from the operator settings. */
export async function createServices(settings: Settings, logger: Logger): Promise<Services> {
  const ledger = await createLedger(settings);
  const planNames = new SkuNameCatalogLoader(settings, { logger });
  return {
    settings,
    ledger,
    secrets: createSecretStore(settings, logger),
    planNames: () => planNames.load(),
    openTenant: (portal, secret) => createTenantReader(portal, secret, settings),
    runQueue: createRunQueue(settings),
    audit: createAuditTrail(settings),
    logger,
    now: () => new Date(),
  };
}

setServicesFactory(createServices);
