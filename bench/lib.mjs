// What every scenario of the benchmark shares: the product's modules, the simulator process, services over
// Azurite (directly or through the latency proxy), and `measure`.
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const dist = (p) => require(path.join(root, 'dist/src', p));

// Storage calls: every HTTP request of this process (Graph goes over https, Azurite over http).
let storageCalls = 0;
const httpRequest = http.request;
const trace = process.env.LICENSE_SYNC_BENCH_TRACE === '1';
http.request = function countedRequest(...args) {
  storageCalls++;
  if (trace) {
    const o = args.find((a) => typeof a === 'object' && a !== null && !(a instanceof URL)) ?? {};
    const u = args.find((a) => a instanceof URL || typeof a === 'string');
    console.error(`storage call ${performance.now().toFixed(0)} ${o.method ?? 'GET'} ${o.path ?? u}`);
  }
  return httpRequest.apply(this, args);
};
export const storageCallCount = () => storageCalls;

const { createServices } = dist('app/compose.js');
const { loadSettings } = dist('config/settings.js');
const { newQueuedRun } = dist('domain/runs.js');
const { runSync } = dist('sync/runSync.js');

export const opts = JSON.parse(process.env.LICENSE_SYNC_BENCH_OPTIONS ?? '{}');
export const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
export const CLIENT_SECRET = 'bench-client-secret-value';
export const app = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

// ---- the simulator process (simulated tenants, Graph latency, the storage latency proxy) ---------------------
const simProcess = fork(path.join(root, 'bench/sim.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
let nextCall = 0;
const pending = new Map();
simProcess.on('message', ({ id, result, error }) => {
  const call = pending.get(id);
  pending.delete(id);
  if (error) call.reject(new Error(error));
  else call.resolve(result);
});
export const sim = (cmd, args) =>
  new Promise((resolve, reject) => {
    const id = nextCall++;
    pending.set(id, { resolve, reject });
    simProcess.send({ id, cmd, args });
  });
export async function closeSim() {
  await sim('close').catch(() => undefined);
  simProcess.kill();
}

// ---- memory ---------------------------------------------------------------------------------------------------
let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
setInterval(sampleRss, 20).unref();
export const mb = (bytes) => Math.round(bytes / 1048576);
export function vmHwmMb() {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return line ? Math.round(Number(line.split(/\s+/)[1]) / 1024) : undefined;
}

// ---- services -------------------------------------------------------------------------------------------------
export const warnings = [];
const logger = {
  info() {},
  warn: (m, p) => {
    if (!/product-names list/.test(m)) warnings.push(`${m} ${JSON.stringify(p ?? {})}`);
  },
  error: (m, p) => console.error('error:', m, JSON.stringify(p ?? {})),
};

/**
 * The product's services against the simulator, in tables of their own (`tablePrefix`, new unless given) over
 * `connectionString` (Azurite, or the latency proxy in front of it). Secrets stay in memory.
 */
export async function makeServices(simUrl, connectionString, tablePrefix = `b${randomBytes(4).toString('hex')}`) {
  const settings = {
    ...loadSettings({
      ...process.env,
      AzureWebJobsStorage: connectionString,
      LICENSE_SYNC_SCHEDULE: undefined,
      LICENSE_SYNC_DATA_DIR: process.env.LICENSE_SYNC_BENCH_WORK_DIR,
      LICENSE_SYNC_SKU_NAMES_URL: 'http://127.0.0.1:9/names.csv',
      LICENSE_SYNC_AUTHORITY_HOST: simUrl,
      LICENSE_SYNC_GRAPH_ENDPOINT: simUrl,
    }),
    tablePrefix,
  };
  settings.queueName = `${tablePrefix}-runs`;
  const secrets = new Map();
  return createServices(settings, logger, {
    secrets: {
      set: async (id, secret) => {
        secrets.set(id, secret);
      },
      get: async () => ({ kind: 'clientSecret', clientSecret: CLIENT_SECRET }),
      delete: async (id) => {
        secrets.delete(id);
      },
    },
  });
}

export async function addPortal(services, tenantId, name) {
  const now = new Date().toISOString();
  return services.ledger.portals.create({
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
  });
}

/** One manual run of a portal; throws unless it succeeded. */
export async function syncOnce(services, portalId, what) {
  const run = newQueuedRun(portalId, 'manual', new Date());
  await services.ledger.runs.create(run);
  const done = await runSync(
    services,
    { portalId, runId: run.id, trigger: 'manual' },
    { dequeueCount: 1, maxDequeueCount: 5 },
  );
  if (done.status !== 'succeeded') throw new Error(`${what} ${done.status}: ${done.errorCode} ${done.errorMessage}`);
  return { graphRequests: done.graphRequests, readMode: done.readMode, counts: done.counts };
}

/** Runs `work` and returns wall seconds, the ledger's counts, storage calls and the peak RSS over it. */
export async function measure(services, work) {
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

export const ratio = (a, b) => (b > 0 ? Math.round((a / b) * 100) / 100 : undefined);
export const round2 = (n) => Math.round(n * 100) / 100;
export const now = () => performance.now();
