// The benchmark proper (started by scripts/bench.mjs with NODE_EXTRA_CA_CERTS and AzureWebJobsStorage set).
// Real services over Azurite; the simulated tenants and the storage latency proxy live in a process of their
// own (bench/sim.mjs). Every scenario runs without latency, then with it (Graph pages and storage calls delayed
// as a real tenant and a real storage account would: see --graph-page-ms and --storage-ms).
import { readFileSync } from 'node:fs';
import { closeSim, opts, ratio, sim, vmHwmMb, warnings } from './lib.mjs';
import { costPerTenantMonth } from './cost.mjs';
import { printReport } from './report.mjs';
import {
  activityScenario,
  apiPages,
  providerFirstSync,
  providerSteady,
  seedApi,
  seedSteady,
  singleTenant,
  workerConcurrency,
} from './scenarios.mjs';

const USERS = opts.users ?? 100_000;
const PLANS = opts.plans ?? 30;
const PORTALS = opts.portals ?? 500;
const PORTAL_USERS = opts.portalUsers ?? 100;
const STEADY_PORTALS = opts.steadyPortals ?? PORTALS * 2;
const STEADY_USERS = opts.steadyUsers ?? 50;
const API_CONSUMERS = opts.apiConsumers ?? Math.min(60_000, Math.round(USERS * 0.6));
const LATENCY = { graphPageMs: opts.graphPageMs ?? 800, storageMs: opts.storageMs ?? 8 };
const ACTIVITY_USERS = opts.activityUsers ?? Math.min(USERS, 4_000);
const SCENARIOS = new Set(
  opts.scenarios ?? ['full', 'noChange', 'delta', 'provider', 'providerSteady', 'api', 'activity'],
);
// Which passes: without latency ('off'), with it ('on'), or both.
const PASSES = opts.latency === 'off' ? ['off'] : opts.latency === 'only' ? ['on'] : ['off', 'on'];
const concurrency = workerConcurrency(opts);

const result = { users: USERS, plans: PLANS, heapMb: opts.heapMb ?? 0 };
const latency = { graphPageMs: LATENCY.graphPageMs, storageMs: LATENCY.storageMs };
try {
  const tls = {
    cert: readFileSync(process.env.LICENSE_SYNC_BENCH_CERT, 'utf8'),
    key: readFileSync(process.env.LICENSE_SYNC_BENCH_KEY, 'utf8'),
  };
  const { url } = await sim('start', tls);
  const direct = process.env.AzureWebJobsStorage;
  const { connectionString: proxied } = await sim('proxy', { connectionString: direct });
  const setLatency = (pass) => sim('latency', pass === 'on' ? LATENCY : { graphPageMs: 0, storageMs: 0 });
  const single = ['full', 'noChange', 'delta'].some((s) => SCENARIOS.has(s));

  // Seeds without latency (they are set-up, not measured).
  await setLatency('off');
  const steadySeed = SCENARIOS.has('providerSteady')
    ? await seedSteady(url, direct, { portals: STEADY_PORTALS, usersEach: STEADY_USERS, plans: Math.min(PLANS, 10) })
    : undefined;
  const apiSeed = SCENARIOS.has('api') ? await seedApi(url, direct, { consumers: API_CONSUMERS }) : undefined;

  for (const pass of PASSES) {
    await setLatency(pass);
    const connection = pass === 'on' ? proxied : direct;
    // Without latency the figures go where today's bench put them; with it, under `latency`.
    const into = pass === 'on' ? latency : result;
    if (single) {
      const out = await singleTenant(url, connection, {
        users: USERS,
        plans: PLANS,
        label: pass,
        fullOnly: !SCENARIOS.has('noChange') && !SCENARIOS.has('delta'),
      });
      Object.assign(into, out);
    }
    if (SCENARIOS.has('provider')) {
      into.provider = await providerFirstSync(url, connection, {
        portals: PORTALS,
        usersEach: PORTAL_USERS,
        plans: Math.min(PLANS, 10),
        concurrency,
      });
    }
    if (steadySeed) {
      const steady = await providerSteady(url, connection, steadySeed, { concurrency });
      (result.providerSteady ??= {})[pass === 'on' ? 'latency' : 'noLatency'] = steady;
    }
    if (SCENARIOS.has('activity')) {
      into.activity = await activityScenario(url, connection, { users: ACTIVITY_USERS, plans: Math.min(PLANS, 10) });
    }
    if (apiSeed) {
      (result.api ??= { consumersOfPlan: API_CONSUMERS })[pass === 'on' ? 'latency' : 'noLatency'] = await apiPages(
        url,
        connection,
        apiSeed,
      );
    }
  }
  await setLatency('off');
  if (PASSES.includes('on')) result.latency = latency;

  const steadyForCost = result.providerSteady?.latency ?? result.providerSteady?.noLatency;
  if (steadyForCost) {
    // The Flex instance whose heap cap the benchmark ran with (the cap is 5/8 of the instance memory).
    const instanceMb = result.heapMb > 0 ? Math.round((result.heapMb * 8) / 5) : 2048;
    result.costPerTenantMonth = costPerTenantMonth(steadyForCost, instanceMb);
  }
  if (result.full && latency.full) {
    result.latency.fullOverNoLatency = ratio(latency.full.seconds, result.full.seconds);
  }
  result.peakRssMb = vmHwmMb();
  result.simulatorRssMb = await sim('rss');
  if (warnings.length > 0) result.warnings = warnings.slice(0, 5);
} finally {
  await closeSim();
}

printReport(result, { portals: PORTALS, portalUsers: PORTAL_USERS, heapMb: opts.heapMb });
console.log(JSON.stringify(result));
process.exit(0);
