// The benchmark proper (started by scripts/bench.mjs with NODE_EXTRA_CA_CERTS and AzureWebJobsStorage set).
// Real services over Azurite; the simulated tenants live in a process of their own (bench/sim.mjs).
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = (p) => require(path.join(root, 'dist/src', p));

// Storage calls: every HTTP request of this process (Graph goes over https, Azurite over http).
let storageCalls = 0;
const httpRequest = http.request;
http.request = function countedRequest(...args) {
  storageCalls++;
  return httpRequest.apply(this, args);
};

const { loadSettings } = dist('config/settings.js');
const { createLedger } = dist('ledger/index.js');
const { createTenantReader } = dist('graph/reader.js');
const { SkuNameCatalogLoader } = dist('skus/index.js');
const { createRunQueue } = dist('storage/runQueue.js');
const { fanOutScheduledRuns } = dist('runs/fanout.js');
const { hostSettings } = dist('runs/hostSettings.js');
const { newQueuedRun } = dist('domain/runs.js');
const { runSync } = dist('sync/runSync.js');
const { getTableClient } = dist('storage/clients.js');
const { mapConcurrent } = dist('util/async.js');
const { MAX_BATCH, WRITE_CONCURRENCY = 16 } = dist('ledger/tables.js');

// ---- options -------------------------------------------------------------------------------------------------
const opts = JSON.parse(process.env.LICENSE_SYNC_BENCH_OPTIONS ?? '{}');
const USERS = opts.users ?? 100_000;
const PLANS = opts.plans ?? 30;
const PORTALS = opts.portals ?? 500;
const PORTAL_USERS = opts.portalUsers ?? 100;
const SCENARIOS = new Set(opts.scenarios ?? ['full', 'noChange', 'delta', 'provider']);
const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const CLIENT_SECRET = 'bench-client-secret-value';

// ---- the simulator process ------------------------------------------------------------------------------------
const simProcess = fork(path.join(root, 'bench/sim.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
let nextCall = 0;
const pending = new Map();
simProcess.on('message', ({ id, result, error }) => {
  const call = pending.get(id);
  pending.delete(id);
  if (error) call.reject(new Error(error));
  else call.resolve(result);
});
const sim = (cmd, args) =>
  new Promise((resolve, reject) => {
    const id = nextCall++;
    pending.set(id, { resolve, reject });
    simProcess.send({ id, cmd, args });
  });

// ---- memory ---------------------------------------------------------------------------------------------------
let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
setInterval(sampleRss, 20).unref();
const mb = (bytes) => Math.round(bytes / 1048576);
function vmHwmMb() {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return line ? Math.round(Number(line.split(/\s+/)[1]) / 1024) : undefined;
}

// ---- services -------------------------------------------------------------------------------------------------
const quiet = { info() {}, warn() {}, error: (m, p) => console.error('error:', m, JSON.stringify(p ?? {})) };
const warnings = [];
const logger = {
  ...quiet,
  warn: (m, p) => {
    if (!/product-names list/.test(m)) warnings.push(`${m} ${JSON.stringify(p ?? {})}`);
  },
};

async function makeServices(simUrl) {
  const settings = {
    ...loadSettings({
      ...process.env,
      LICENSE_SYNC_SCHEDULE: undefined,
      LICENSE_SYNC_DATA_DIR: process.env.LICENSE_SYNC_BENCH_WORK_DIR,
      LICENSE_SYNC_SKU_NAMES_URL: 'http://127.0.0.1:9/names.csv',
      LICENSE_SYNC_AUTHORITY_HOST: simUrl,
      LICENSE_SYNC_GRAPH_ENDPOINT: simUrl,
    }),
    tablePrefix: `b${randomBytes(4).toString('hex')}`,
  };
  settings.queueName = `${settings.tablePrefix}-runs`;
  const ledger = await createLedger(settings);
  const names = new SkuNameCatalogLoader(settings, { logger });
  const secrets = new Map();
  return {
    settings,
    ledger,
    secrets: {
      set: async (id, secret) => {
        secrets.set(id, secret);
      },
      get: async (id) => secrets.get(id),
      delete: async (id) => {
        secrets.delete(id);
      },
    },
    planNames: () => names.load(),
    openTenant: (portal, secret) => createTenantReader(portal, secret, settings),
    runQueue: createRunQueue(settings),
    logger,
    now: () => new Date(),
  };
}

async function addPortal(services, tenantId, name) {
  const now = new Date().toISOString();
  const portal = {
    id: randomUUID(),
    name,
    tenantId,
    clientId: CLIENT_ID,
    cloud: 'global',
    authKind: 'clientSecret',
    active: true,
    autoSync: true,
    hasSecret: true,
    secretSetAt: now,
    createdAt: now,
    updatedAt: now,
  };
  await services.secrets.set(portal.id, { kind: 'clientSecret', clientSecret: CLIENT_SECRET });
  return services.ledger.portals.create(portal);
}

async function syncOnce(services, portalId) {
  const run = newQueuedRun(portalId, 'manual', new Date());
  await services.ledger.runs.create(run);
  return runSync(services, { portalId, runId: run.id, trigger: 'manual' }, { dequeueCount: 1, maxDequeueCount: 5 });
}

/** Runs `work` and returns wall seconds, the ledger's counts and the peak RSS over it. */
async function measure(services, work) {
  globalThis.gc?.();
  const before = { ...services.ledger.stats };
  const calls = storageCalls;
  peakRss = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const extra = (await work()) ?? {};
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  sampleRss();
  const after = services.ledger.stats;
  return {
    seconds: Math.round(seconds * 100) / 100,
    graphRequests: 0,
    entitiesRead: after.entitiesRead - before.entitiesRead,
    entitiesWritten: after.entitiesWritten - before.entitiesWritten,
    transactions: after.transactions - before.transactions,
    storageCalls: storageCalls - calls,
    peakRssMb: mb(peakRss),
    // CPU of this process (the product's code and its SDKs) over the wall time: 100 = one core busy throughout.
    cpuPercent: seconds > 0 ? Math.round((cpuSeconds / seconds) * 100) : 0,
    ...extra,
  };
}

const ratio = (a, b) => (b > 0 ? Math.round((a / b) * 100) / 100 : undefined);

// ---- main -----------------------------------------------------------------------------------------------------
const result = { users: USERS, plans: PLANS, heapMb: opts.heapMb ?? 0 };
try {
  const tls = {
    cert: readFileSync(process.env.LICENSE_SYNC_BENCH_CERT, 'utf8'),
    key: readFileSync(process.env.LICENSE_SYNC_BENCH_KEY, 'utf8'),
  };
  const { url } = await sim('start', tls);
  const app = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
  const floors = {};
  const single = ['full', 'noChange', 'delta'].some((s) => SCENARIOS.has(s));

  if (single) {
    const services = await makeServices(url);
    const [{ tenantId }] = await sim('addTenants', {
      inputs: [{ displayName: 'Bench tenant', apps: [app], generated: { users: USERS, plans: PLANS, seed: 7 } }],
    });
    const portal = await addPortal(services, tenantId, 'Bench');
    const secret = await services.secrets.get(portal.id);

    // Floor: page through the same Graph data with the same client, nothing else.
    floors.graphRead = await measure(services, async () => {
      const reader = createTenantReader(portal, secret, services.settings);
      await reader.readPlans();
      let users = 0;
      for await (const page of reader.readUsers()) users += page.length;
      return { graphRequests: reader.stats().graphRequests, users };
    });

    result.full = await measure(services, async () => {
      const run = await syncOnce(services, portal.id);
      if (run.status !== 'succeeded') throw new Error(`full sync ${run.status}: ${run.errorCode} ${run.errorMessage}`);
      return { graphRequests: run.graphRequests, readMode: run.readMode, counts: run.counts };
    });

    // Floor: write as many entities as the full sync did, in 100-entity transactions, to the same storage.
    const entities = result.full.entitiesWritten;
    const floorTable = await getTableClient(services.settings, 'floor');
    floors.write = await measure(services, async () => {
      // Chunks are made as they are sent, so the floor holds no more than the transactions in flight.
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

    // Floor: read this portal's ledger state alone.
    floors.ledgerRead = await measure(services, async () => {
      const state = await services.ledger.syncState.loadPortal(portal.id);
      return { consumers: state.consumers.size, userLinks: state.userLinks.size };
    });

    if (SCENARIOS.has('noChange')) {
      // The daily full read over unchanged data (the costlier kind of no-change run): the full read is made due.
      const current = await services.ledger.portals.get(portal.id);
      await services.ledger.portals.update({
        ...current,
        lastFullReadAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      });
      result.noChange = await measure(services, async () => {
        const run = await syncOnce(services, portal.id);
        if (run.status !== 'succeeded') throw new Error(`no-change sync ${run.status}: ${run.errorCode}`);
        return { graphRequests: run.graphRequests, readMode: run.readMode, counts: run.counts };
      });
      // And the hourly kind: a delta round that finds nothing.
      result.noChangeDelta = await measure(services, async () => {
        const run = await syncOnce(services, portal.id);
        if (run.status !== 'succeeded') throw new Error(`no-change delta sync ${run.status}: ${run.errorCode}`);
        return { graphRequests: run.graphRequests, readMode: run.readMode, counts: run.counts };
      });
    }

    if (SCENARIOS.has('delta')) {
      result.changes = await sim('mutate', { tenantId, users: USERS, fraction: 0.01, seed: 3 });
      result.delta = await measure(services, async () => {
        const run = await syncOnce(services, portal.id);
        if (run.status !== 'succeeded') throw new Error(`delta sync ${run.status}: ${run.errorCode}`);
        return { graphRequests: run.graphRequests, readMode: run.readMode, counts: run.counts };
      });
    }
  }

  if (SCENARIOS.has('provider')) {
    const services = await makeServices(url);
    const inputs = Array.from({ length: PORTALS }, (_, i) => ({
      displayName: `Customer ${i + 1}`,
      apps: [app],
      generated: { users: PORTAL_USERS, plans: Math.min(PLANS, 10), seed: i + 1 },
    }));
    const tenants = await sim('addTenants', { inputs });
    await mapConcurrent(tenants, 16, ({ tenantId }) =>
      addPortal(services, tenantId, `Customer ${tenantId.slice(0, 8)}`),
    );
    const { queues } = hostSettings();
    // What one instance of the host runs at once (host.json), unless the benchmark is told otherwise.
    const concurrency = opts.workerConcurrency ?? queues.batchSize + queues.newBatchThreshold;
    let messages = [];
    // The timer's function: decide and make the messages (storage calls of its own), then the queue output
    // binding sends them, one put each (Queue Storage has no batch put): measured apart as `enqueue`.
    const fanout = await measure(services, async () => {
      const out = await fanOutScheduledRuns(services);
      messages = out.messages;
      return { messages: out.messages.length, skipped: out.skipped.length };
    });
    const enqueue = await measure(services, async () => {
      await mapConcurrent(messages, 16, (message) => services.runQueue.send(message));
      return { messages: messages.length, concurrency: 16 };
    });
    let graphRequests = 0;
    const statuses = {};
    const worker = await measure(services, async () => {
      await mapConcurrent(messages, concurrency, async (message) => {
        const run = await runSync(services, message, { dequeueCount: 1, maxDequeueCount: queues.maxDequeueCount });
        graphRequests += run.graphRequests;
        statuses[run.status] = (statuses[run.status] ?? 0) + 1;
      });
      return { concurrency, statuses };
    });
    worker.graphRequests = graphRequests;
    const steps = [fanout, enqueue, worker];
    const sum = (key) => steps.reduce((total, step) => total + step[key], 0);
    result.provider = {
      portals: PORTALS,
      usersPerPortal: PORTAL_USERS,
      seconds: Math.round(sum('seconds') * 100) / 100,
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

  if (Object.keys(floors).length > 0) result.floors = floors;
  if (result.full && floors.graphRead && floors.write) {
    result.full.floorSeconds = Math.round((floors.graphRead.seconds + floors.write.seconds) * 100) / 100;
    result.full.ratioToFloor = ratio(result.full.seconds, result.full.floorSeconds);
  }
  if (result.noChange && floors.graphRead && floors.ledgerRead) {
    result.noChange.floorSeconds = Math.round((floors.graphRead.seconds + floors.ledgerRead.seconds) * 100) / 100;
    result.noChange.ratioToFloor = ratio(result.noChange.seconds, result.noChange.floorSeconds);
  }
  if (result.delta && result.full) {
    result.delta.fractionOfFullGraphRequests = ratio(result.delta.graphRequests, result.full.graphRequests);
    result.delta.fractionOfFullReadSeconds = floors.graphRead
      ? ratio(result.delta.seconds, floors.graphRead.seconds)
      : undefined;
  }
  result.peakRssMb = vmHwmMb();
  result.simulatorRssMb = await sim('rss');
  if (warnings.length > 0) result.warnings = warnings.slice(0, 5);
} finally {
  await sim('close').catch(() => undefined);
  simProcess.kill();
}

// ---- report ---------------------------------------------------------------------------------------------------
const rows = [];
const row = (name, r, note = '') =>
  r &&
  rows.push([
    name,
    r.seconds,
    r.graphRequests ?? '',
    r.entitiesRead,
    r.entitiesWritten,
    r.transactions,
    r.storageCalls ?? '',
    r.peakRssMb,
    r.cpuPercent ?? '',
    note,
  ]);
row('floor: Graph read', result.floors?.graphRead, `${result.floors?.graphRead?.users ?? ''} users`);
row('floor: write', result.floors?.write, '100-entity transactions');
row(
  'floor: ledger read',
  result.floors?.ledgerRead,
  `${result.floors?.ledgerRead?.consumers ?? ''} consumers, ${result.floors?.ledgerRead?.userLinks ?? ''} user links`,
);
row(
  'full sync',
  result.full,
  result.full && `${result.full.readMode}; ${result.full.ratioToFloor} x floor (${result.full.floorSeconds}s)`,
);
row(
  'no change (full read)',
  result.noChange,
  result.noChange &&
    `${result.noChange.readMode}; ${result.noChange.ratioToFloor} x floor (${result.noChange.floorSeconds}s)`,
);
row('no change (delta)', result.noChangeDelta, result.noChangeDelta?.readMode);
row('1% changed', result.delta, result.delta && `${result.delta.readMode}; ${JSON.stringify(result.changes)}`);
row(
  'provider: fan-out',
  result.provider?.fanout,
  result.provider && `${result.provider.fanout.messages} messages, ${result.provider.fanout.skipped} skipped`,
);
row(
  'provider: enqueue',
  result.provider?.enqueue,
  result.provider &&
    `${result.provider.enqueue.messages} queue puts, concurrency ${result.provider.enqueue.concurrency}`,
);
row(
  'provider: worker',
  result.provider?.worker,
  result.provider &&
    `concurrency ${result.provider.worker.concurrency}; ${JSON.stringify(result.provider.worker.statuses)}`,
);
const header = [
  'scenario',
  'seconds',
  'graph req',
  'ent read',
  'ent written',
  'transactions',
  'storage calls',
  'peak RSS MB',
  'CPU %',
  'notes',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
const line = (cells) => cells.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
console.log(
  `\nm365-license-sync benchmark: ${USERS} users, ${PLANS} plans; provider ${PORTALS} portals x ${PORTAL_USERS} users; heap cap ${opts.heapMb ? `${opts.heapMb} MB` : 'none'}`,
);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(
  `peak RSS of the benchmark process: ${result.peakRssMb} MB; simulator process: ${result.simulatorRssMb} MB`,
);
console.log(JSON.stringify(result));
process.exit(0);
