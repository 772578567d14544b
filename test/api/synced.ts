import { runSync } from '../../src/sync/runSync';
import { expectNoSecrets, startApi, type ApiHarness } from './harness';
import { portalBody, portalName, startTestTenant, type TestTenant } from './tenant';

/** A simulated tenant, the API over it, and one portal of it synced once: what the ledger's read tests start from. */
export interface SyncedApi {
  t: TestTenant;
  api: ApiHarness;
  portalId: string;
  domain: string;
  /** The portal's ENTERPRISEPACK license as listed. */
  e3: { id: string; name: string };
}

export async function startSyncedApi(namePrefix: string): Promise<SyncedApi> {
  const t = await startTestTenant();
  const domain = t.tenant.domains[0]!;
  const api = await startApi({
    simulator: { authorityHost: t.simulator.authorityHost, graphEndpoint: t.simulator.graphEndpoint },
  });
  const created = await api.call('portalsCreate', {
    body: portalBody(t, {}, portalName(namePrefix)),
  });
  const portalId = created.body.id as string;
  const queued = await api.call('portalsSync', { params: { id: portalId } });
  const run = await runSync(
    api.services,
    { portalId, runId: queued.body.runId, trigger: 'manual' },
    { dequeueCount: 1, maxDequeueCount: 5 },
  );
  if (run.status !== 'succeeded') throw new Error(`The first sync ended ${run.status}: ${run.errorCode}`);
  const licenses = await api.call('licensesList', { query: `?portalId=${portalId}` });
  const e3 = licenses.body.items.find((l: { skuPartNumber: string }) => l.skuPartNumber === 'ENTERPRISEPACK');
  return { t, api, portalId, domain, e3 };
}

/** Fails if a secret of the tenant showed up in a log line or a response, then stops the tenant. */
export async function stopSyncedApi(synced: SyncedApi | undefined): Promise<void> {
  if (!synced) return;
  expectNoSecrets({ logs: synced.api.logs, bodies: synced.api.bodies }, synced.t.secrets);
  await synced.t.close();
}

/** For a describe block: the synced API, filled in before its tests and checked and stopped after them. */
export function useSyncedApi(namePrefix: string): SyncedApi {
  const synced = {} as SyncedApi;
  beforeAll(async () => {
    Object.assign(synced, await startSyncedApi(namePrefix));
  });
  afterAll(() => stopSyncedApi(synced.t ? synced : undefined));
  return synced;
}
