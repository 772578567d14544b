import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TableClient } from '@azure/data-tables';
import { createServices } from '../../src/app/compose';
import type { Logger, Services } from '../../src/domain/ports';
import type { ConsumerRecord, LicenseRecord, PortalRecord, RunRecord } from '../../src/domain/records';
import { startSimulator, type SimTenant, type SimTenantInput, type Simulator } from '../../src/local/simulator';
import type { PortalSecret } from '../../src/domain/secrets';
import { getTableClient } from '../../src/storage/clients';
import { newQueuedRun } from '../../src/domain/runs';
import { runSync } from '../../src/sync/runSync';
import { testSettings, testTls } from '../support/env';

/**
 * The sync engine over real storage (the suite's Azurite, tables of this file's own) and the simulated Microsoft
 * tenant over HTTPS, through the real @azure/identity and Graph client.
 */
export interface SyncHarness {
  sim: Simulator;
  services: Services;
  logs: string[];
  addPortal(tenant: SimTenant, options?: Partial<PortalRecord> & { secret?: PortalSecret }): Promise<PortalRecord>;
  /** Runs one sync as the queue worker would; a transient failure throws as it does for the host. */
  sync(portal: PortalRecord, dequeueCount?: number): Promise<RunRecord>;
  licenses(portal: PortalRecord): Promise<LicenseRecord[]>;
  consumers(portal: PortalRecord): Promise<ConsumerRecord[]>;
  /** Every entity of the ledger tables with its ETag: equal snapshots mean nothing was written. */
  ledgerSnapshot(): Promise<string[]>;
  close(): Promise<void>;
}

export const APP_CLIENT_ID = '11111111-2222-4333-8444-555555555555';
export const APP_SECRET = 'test-client-secret-value-7f3a';

export function tenantWithApp(sim: Simulator, input: SimTenantInput = {}): SimTenant {
  return sim.addTenant({ apps: [{ clientId: APP_CLIENT_ID, clientSecret: APP_SECRET }], ...input });
}

export async function startSyncHarness(): Promise<SyncHarness> {
  const tls = testTls();
  const sim = await startSimulator({ cert: tls.cert, key: tls.key });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'license-sync-sync-'));
  const settings = testSettings({
    dataDir,
    authorityHostOverride: sim.authorityHost,
    graphEndpointOverride: sim.graphEndpoint,
    // Unreachable on purpose: plan names come from the snapshot shipped with the app, as offline.
    skuNamesUrl: 'http://127.0.0.1:9/names.csv',
  });
  const logs: string[] = [];
  const capture = (level: string) => (message: string, properties?: Record<string, unknown>) =>
    logs.push(`${level} ${message} ${JSON.stringify(properties ?? {})}`);
  const logger: Logger = { info: capture('info'), warn: capture('warn'), error: capture('error') };
  const services = await createServices(settings, logger);

  const tables: TableClient[] = await Promise.all(
    (['licenses', 'consumers', 'contacts', 'contactaddresses', 'userlinks', 'history'] as const).map((name) =>
      getTableClient(settings, name),
    ),
  );

  return {
    sim,
    services,
    logs,
    async addPortal(tenant, options = {}) {
      const now = new Date().toISOString();
      const { secret = { kind: 'clientSecret', clientSecret: APP_SECRET }, ...fields } = options;
      const portal: PortalRecord = {
        id: randomUUID(),
        name: `Tenant ${randomUUID().slice(0, 8)}`,
        tenantId: tenant.tenantId,
        clientId: APP_CLIENT_ID,
        cloud: 'global',
        authKind: secret.kind,
        active: true,
        autoSync: true,
        hasSecret: true,
        secretSetAt: now,
        createdAt: now,
        updatedAt: now,
        ...fields,
      };
      await services.secrets.set(portal.id, secret);
      return services.ledger.portals.create(portal);
    },
    async sync(portal, dequeueCount = 1) {
      const run = newQueuedRun(portal.id, 'manual', new Date());
      await services.ledger.runs.create(run);
      return runSync(
        services,
        { portalId: portal.id, runId: run.id, trigger: 'manual' },
        { dequeueCount, maxDequeueCount: 5 },
      );
    },
    licenses: (portal) => services.ledger.licenses.list(portal.id),
    async consumers(portal) {
      const licenses = await services.ledger.licenses.list(portal.id);
      const all = await Promise.all(licenses.map((license) => services.ledger.licenses.listConsumers(license.id)));
      return all.flat();
    },
    async ledgerSnapshot() {
      const rows: string[] = [];
      for (const table of tables) {
        for await (const entity of table.listEntities())
          rows.push(`${table.tableName}/${entity.partitionKey}/${entity.rowKey}@${entity.etag}`);
      }
      return rows.sort();
    },
    close: () => sim.close(),
  };
}
