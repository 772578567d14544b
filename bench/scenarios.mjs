// The benchmark's scenarios. Each takes services (over Azurite directly, or through the latency proxy) and returns
// plain figures; bench/run.mjs runs them without and with latency and prints the report.
import { randomUUID } from 'node:crypto';
import {
  addPortal,
  app,
  dist,
  makeServices,
  measure,
  now,
  ratio,
  round2,
  sim,
  storageCallCount,
  syncOnce,
} from './lib.mjs';

const { createTenantReader } = dist('graph/reader.js');
const { fanOutScheduledRuns } = dist('runs/fanout.js');
const { hostSettings } = dist('runs/hostSettings.js');
const { runSync } = dist('sync/runSync.js');
const { getTableClient } = dist('storage/clients.js');
const { mapConcurrent } = dist('util/async.js');
const { MAX_BATCH, WRITE_CONCURRENCY } = dist('ledger/tables.js');
const SECRET = { kind: 'clientSecret', clientSecret: app.clientSecret };

/** What one instance of the host runs at once (host.json), unless the benchmark is told otherwise. */
export function workerConcurrency(opts) {
  const { queues } = hostSettings();
  return opts.workerConcurrency ?? queues.batchSize + queues.newBatchThreshold;
}

/** Pages through a tenant's plans and users with the product's Graph client, nothing else. */
async function readWholeTenant(portal, settings) {
  const reader = createTenantReader(portal, SECRET, settings);
  const [, users] = await Promise.all([
    reader.readPlans(),
    (async () => {
      let n = 0;
      for await (const page of reader.readUsers()) n += page.length;
      return n;
    })(),
  ]);
  return { graphRequests: reader.stats().graphRequests, users };
}

/**
 * One large tenant: the floors (Graph read, write, ledger read), its first full sync, its second run (a delta run
 * that finds nothing), the daily full read over unchanged data, and a delta run after 1% of the users changed.
 */
export async function singleTenant(url, connectionString, { users, plans, label, fullOnly = false }) {
  const services = await makeServices(url, connectionString);
  const [{ tenantId }] = await sim('addTenants', {
    inputs: [{ displayName: `Bench ${label}`, apps: [app], generated: { users, plans, seed: 7 } }],
  });
  const portal = await addPortal(services, tenantId, `Bench ${label}`);
  const out = { floors: {} };

  out.floors.graphRead = await measure(services, () => readWholeTenant(portal, services.settings));
  out.full = await measure(services, () => syncOnce(services, portal.id, 'full sync'));
  out.full.deltaLinkKept = Boolean((await services.ledger.portals.get(portal.id))?.deltaLink);
  if (fullOnly) return out;

  // Floor: write as many entities as the full sync did, in 100-entity transactions, to the same storage.
  const entities = out.full.entitiesWritten;
  const floorTable = await getTableClient(services.settings, 'floor');
  out.floors.write = await measure(services, async () => {
    const starts = [];
    for (let i = 0; i < entities; i += MAX_BATCH) starts.push(i);
    await mapConcurrent(starts, WRITE_CONCURRENCY, (i) => {
      const partitionKey = (Math.floor(i / MAX_BATCH) % 256).toString(16).padStart(2, '0');
      const chunk = [];
      for (let j = i; j < Math.min(entities, i + MAX_BATCH); j++) {
        chunk.push([
          'create',
          {
            partitionKey,
            rowKey: randomUUID(),
            contactId: randomUUID(),
            owner: '{"kind":"sync","portalId":"00000000-0000-0000-0000-000000000000"}',
            updatedAt: new Date().toISOString(),
            n: j,
          },
        ]);
      }
      // Nothing of the response is kept (mapConcurrent would hold every one until the end).
      return floorTable.submitTransaction(chunk).then(() => undefined);
    });
    return { entitiesWritten: entities, transactions: starts.length };
  });
  out.floors.ledgerRead = await measure(services, async () => {
    const state = await services.ledger.syncState.loadPortal(portal.id);
    return { consumers: state.consumers.size, userLinks: state.userLinks.size };
  });

  // The second run of the new tenant, nothing changed: a delta round when the first sync kept a delta link.
  out.noChangeDelta = await measure(services, () => syncOnce(services, portal.id, 'second run'));
  // The daily full read over unchanged data (the costlier kind of no-change run): the full read is made due.
  const current = await services.ledger.portals.get(portal.id);
  await services.ledger.portals.update({
    ...current,
    lastFullReadAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
  });
  out.noChange = await measure(services, () => syncOnce(services, portal.id, 'no-change sync'));
  out.changes = await sim('mutate', { tenantId, users, fraction: 0.01, seed: 3 });
  out.delta = await measure(services, () => syncOnce(services, portal.id, 'delta sync'));

  const { graphRead, write, ledgerRead } = out.floors;
  out.full.floorSeconds = round2(Math.max(graphRead.seconds, write.seconds));
  out.full.ratioToFloor = ratio(out.full.seconds, out.full.floorSeconds);
  // Today's bench compared with the sum of the floors: kept so the figures can be compared run to run.
  out.full.ratioToSumOfFloors = ratio(out.full.seconds, graphRead.seconds + write.seconds);
  out.noChange.floorSeconds = round2(Math.max(graphRead.seconds, ledgerRead.seconds));
  out.noChange.ratioToFloor = ratio(out.noChange.seconds, out.noChange.floorSeconds);
  out.noChange.ratioToSumOfFloors = ratio(out.noChange.seconds, graphRead.seconds + ledgerRead.seconds);
  out.delta.fractionOfFullGraphRequests = ratio(out.delta.graphRequests, out.full.graphRequests);
  out.delta.fractionOfFullReadSeconds = ratio(out.delta.seconds, graphRead.seconds);
  return out;
}

/** The timer's fan-out, the queue puts, then every message through the worker at the host's concurrency. */
async function hourlyRun(services, concurrency) {
  let messages = [];
  const fanout = await measure(services, async () => {
    const out = await fanOutScheduledRuns(services);
    messages = out.messages;
    return { messages: out.messages.length, skipped: out.skipped.length };
  });
  // The queue output binding sends them, one put each (Queue Storage has no batch put).
  const enqueue = await measure(services, async () => {
    await mapConcurrent(messages, 16, (message) => services.runQueue.send(message));
    return { messages: messages.length, concurrency: 16 };
  });
  let graphRequests = 0;
  const statuses = {};
  const readModes = {};
  const worker = await measure(services, async () => {
    await mapConcurrent(messages, concurrency, async (message) => {
      const run = await runSync(services, message, { dequeueCount: 1, maxDequeueCount: 5 });
      graphRequests += run.graphRequests;
      statuses[run.status] = (statuses[run.status] ?? 0) + 1;
      if (run.readMode) readModes[run.readMode] = (readModes[run.readMode] ?? 0) + 1;
    });
    return { concurrency, statuses, readModes };
  });
  worker.graphRequests = graphRequests;
  const steps = [fanout, enqueue, worker];
  const sum = (key) => steps.reduce((total, step) => total + step[key], 0);
  return {
    portals: messages.length,
    seconds: round2(sum('seconds')),
    graphRequests,
    entitiesRead: sum('entitiesRead'),
    entitiesWritten: sum('entitiesWritten'),
    transactions: sum('transactions'),
    storageCalls: sum('storageCalls'),
    peakRssMb: Math.max(...steps.map((step) => step.peakRssMb)),
    fanout,
    enqueue,
    worker,
  };
}

/** Portals of small generated tenants, in tables of their own. */
async function addSmallPortals(services, count, usersEach, plans, label) {
  const inputs = Array.from({ length: count }, (_, i) => ({
    displayName: `${label} ${i + 1}`,
    apps: [app],
    generated: { users: usersEach, plans, seed: i + 1 },
  }));
  const tenants = await sim('addTenants', { inputs });
  return mapConcurrent(tenants, 16, ({ tenantId }) =>
    addPortal(services, tenantId, `${label} ${tenantId.slice(0, 8)}`),
  );
}

/** Many small tenants' first sync: one hourly run over portals never synced. */
export async function providerFirstSync(url, connectionString, { portals, usersEach, plans, concurrency }) {
  const services = await makeServices(url, connectionString);
  await addSmallPortals(services, portals, usersEach, plans, 'Customer');
  const run = await hourlyRun(services, concurrency);
  return { usersPerPortal: usersEach, ...run };
}

/** Seeds the steady-state provider: `portals` small tenants, each synced once (fast: no latency, 16 at once). */
export async function seedSteady(url, connectionString, { portals, usersEach, plans }) {
  const services = await makeServices(url, connectionString);
  const list = await addSmallPortals(services, portals, usersEach, plans, 'Steady');
  await hourlyRun(services, 16);
  return { tablePrefix: services.settings.tablePrefix, portals: list, usersEach };
}

/**
 * The hourly run over `portals` small tenants already synced, nothing changed. The per-portal floor reads a
 * sample of the tenants (Graph: plans and users) and their ledger state at once, nothing else: the run's floor
 * is portals x that / concurrency.
 */
export async function providerSteady(url, connectionString, seed, { concurrency, sample = 20 }) {
  const services = await makeServices(url, connectionString, seed.tablePrefix);
  const picked = seed.portals.slice(0, sample);
  let floorSeconds = 0;
  const calls0 = storageCallCount();
  for (const portal of picked) {
    const t0 = now();
    await Promise.all([
      readWholeTenant(portal, services.settings),
      // As the sync reads a small portal's state (one query; see loadPortal's expectedConsumers).
      services.ledger.syncState.loadPortal(portal.id, { expectedConsumers: seed.usersEach * 2 }),
    ]);
    floorSeconds += (now() - t0) / 1000;
  }
  const perPortalFloorSeconds = floorSeconds / picked.length;
  const floorStorageCalls = (storageCallCount() - calls0) / picked.length;
  const run = await hourlyRun(services, concurrency);
  const n = run.portals || 1;
  const floor = (n * perPortalFloorSeconds) / concurrency;
  return {
    portals: run.portals,
    usersPerPortal: seed.usersEach,
    concurrency,
    seconds: run.seconds,
    workerSeconds: run.worker.seconds,
    perPortal: {
      graphRequests: round2(run.graphRequests / n),
      storageCalls: round2((run.fanout.storageCalls + run.worker.storageCalls) / n),
      queueCalls: round2(run.enqueue.storageCalls / n),
      entitiesWritten: round2(run.entitiesWritten / n),
      entitiesRead: round2(run.entitiesRead / n),
      floorSeconds: Number(perPortalFloorSeconds.toFixed(5)),
      floorStorageCalls: round2(floorStorageCalls),
    },
    floorSeconds: round2(floor),
    ratioToFloor: ratio(run.worker.seconds, floor),
    statuses: run.worker.statuses,
    readModes: run.worker.readModes,
    peakRssMb: run.peakRssMb,
    cpuPercent: run.worker.cpuPercent,
  };
}

/** A portal with one plan that `consumers` users hold, synced once (no latency). */
export async function seedApi(url, connectionString, { consumers }) {
  const services = await makeServices(url, connectionString);
  const [{ tenantId }] = await sim('addTenants', {
    inputs: [{ displayName: 'Bench API', apps: [app], generated: { users: consumers, plans: 1, seed: 11 } }],
  });
  const portal = await addPortal(services, tenantId, 'Bench API');
  await syncOnce(services, portal.id, 'API seed sync');
  const [license] = await services.ledger.licenses.list(portal.id);
  return { tablePrefix: services.settings.tablePrefix, licenseId: license.id, portalId: portal.id };
}

/** The first page of an API list through its controller: storage calls, milliseconds and items. */
async function firstPage(services, controller, endpoint, params) {
  // Paging: the first page of 100 when the route takes a page size (the name depends on the route).
  const candidates = [{ limit: '100' }, { top: '100' }, { pageSize: '100' }, {}];
  const query =
    candidates
      .map((q) => endpoint.query?.safeParse?.(q))
      .find((parsed) => parsed?.success && Object.keys(parsed.data ?? {}).length > 0)?.data ?? {};
  const calls0 = storageCallCount();
  const t0 = now();
  const result = await controller({ params, query, body: undefined }, services);
  const ms = Math.round(now() - t0);
  const items = result.body?.items ?? [];
  return { storageCalls: storageCallCount() - calls0, ms, items: items.length, paged: Object.keys(query).length > 0 };
}

/** The first page of a plan's consumers, of the waste ranking and of the open alerts. */
export async function apiPages(url, connectionString, seed) {
  const services = await makeServices(url, connectionString, seed.tablePrefix);
  const { listConsumersController } = dist('api/controllers.js');
  const { listConsumersEndpoint } = dist('api/ledgerEndpoints.js');
  const { wasteController } = dist('api/insightsControllers.js');
  const { wasteEndpoint } = dist('api/insightsEndpoints.js');
  const { listAlertsController } = dist('api/alertControllers.js');
  const { listAlertsEndpoint } = dist('api/alertEndpoints.js');
  return {
    consumers: await firstPage(services, listConsumersController, listConsumersEndpoint, { id: seed.licenseId }),
    waste: await firstPage(services, wasteController, wasteEndpoint, {}),
    alerts: await firstPage(services, listAlertsController, listAlertsEndpoint, {}),
  };
}

/**
 * The activity pass (PRODUCT.md, "Activity, prices and waste"): a tenant whose portal reads sign-in activity. The
 * day's first run reads it (Graph allows 120 users a page with signInActivity); a second full read the same day
 * does not. The difference in Graph requests is the pass's, against its expected ceil(licensed users / 120).
 */
export async function activityScenario(url, connectionString, { users, plans }) {
  const services = await makeServices(url, connectionString);
  const [{ tenantId }] = await sim('addTenants', {
    inputs: [
      {
        displayName: 'Bench activity',
        apps: [{ ...app, permissions: ['Organization.Read.All', 'User.Read.All', 'AuditLog.Read.All'] }],
        generated: { users, plans, seed: 11 },
      },
    ],
  });
  const created = await addPortal(services, tenantId, 'Bench activity');
  await services.ledger.portals.update({ ...created, activity: true });
  const first = await measure(services, () => syncOnce(services, created.id, 'activity: first run of the day'));
  // The day's second run, a full read again (made due): the pass has run today, so it reads no activity.
  const current = await services.ledger.portals.get(created.id);
  // A first sync of a tenant whose plans hold 5,000 assignments or more also asks for a delta link (one request).
  const linkRequests = current.deltaLink ? 1 : 0;
  await services.ledger.portals.update({
    ...current,
    lastFullReadAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
  });
  const second = await measure(services, () => syncOnce(services, created.id, 'activity: second run of the day'));
  const licensedUsers = (await services.ledger.portals.get(created.id))?.licensedUsers ?? 0;
  return {
    users,
    licensedUsers,
    firstRun: first,
    secondRun: second,
    activityGraphRequests: first.graphRequests - second.graphRequests - linkRequests,
    expectedActivityPages: Math.ceil(licensedUsers / 120),
    secondRunReadMode: second.readMode,
  };
}
