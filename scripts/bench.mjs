// `npm run bench`: measures the sync at scale against the simulated tenant and Azurite on this machine.
//   node scripts/bench.mjs [--users 100000] [--plans 30] [--portals 500] [--portal-users 100]
//                          [--scenarios full,noChange,delta,provider,providerSteady,api,activity] [--heap-mb 320]
//                          [--graph-page-ms 800] [--storage-ms 8] [--latency both|off|only]
//                          [--steady-portals 1000] [--steady-users 50] [--api-consumers 60000] [--activity-users 4000]
//                          [--rss-sizes 10000,50000]
// Latency exists in the benchmark only: the simulated Graph answers a page of 999 users after --graph-page-ms
// (scaled by page size) and a proxy in front of Azurite holds every storage call --storage-ms. Peak memory is
// also measured for a first sync of each of --rss-sizes users, each in a fresh process.
// Like scripts/test.mjs it makes a certificate and an in-memory Azurite first, then runs the benchmark in a child
// node process that trusts the certificate from its start (NODE_EXTRA_CA_CERTS). The last line printed is one
// JSON object with every figure.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { ensureLocalCertificate } = require(path.join(root, 'dist/src/local/tls.js'));
const { startAzurite } = require(path.join(root, 'dist/src/local/azurite.js'));

function parseArgs(argv) {
  const options = {};
  const number = (name, value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive whole number`);
    return n;
  };
  const ms = (name, value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number of milliseconds (0: none)`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--users':
        options.users = number('users', value());
        break;
      case '--plans':
        options.plans = number('plans', value());
        break;
      case '--portals':
        options.portals = number('portals', value());
        break;
      case '--portal-users':
        options.portalUsers = number('portal-users', value());
        break;
      case '--worker-concurrency':
        options.workerConcurrency = number('worker-concurrency', value());
        break;
      case '--steady-portals':
        options.steadyPortals = number('steady-portals', value());
        break;
      case '--steady-users':
        options.steadyUsers = number('steady-users', value());
        break;
      case '--activity-users':
        options.activityUsers = number('activity-users', value());
        break;
      case '--api-consumers':
        options.apiConsumers = number('api-consumers', value());
        break;
      case '--graph-page-ms':
        options.graphPageMs = ms('graph-page-ms', value());
        break;
      case '--storage-ms':
        options.storageMs = ms('storage-ms', value());
        break;
      case '--latency': {
        const v = value();
        if (!['both', 'off', 'only'].includes(v)) throw new Error('--latency is both, off or only');
        options.latency = v;
        break;
      }
      case '--rss-sizes': {
        const v = value();
        options.rssSizes = v === 'none' ? [] : v.split(',').map((n) => number('rss-sizes', n));
        break;
      }
      case '--heap-mb': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0) throw new Error('--heap-mb needs a whole number of MB (0: no cap)');
        options.heapMb = n;
        break;
      }
      case '--scenarios':
        options.scenarios = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--help':
        console.log(
          'node scripts/bench.mjs [--users N] [--plans N] [--portals N] [--portal-users N] [--scenarios full,noChange,delta,provider,providerSteady,api,activity] [--heap-mb N (0: no cap)] [--worker-concurrency N (default: host.json)] [--graph-page-ms 800] [--storage-ms 8] [--latency both|off|only] [--steady-portals N] [--steady-users N] [--api-consumers N] [--activity-users N] [--rss-sizes 10000,50000|none]',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`Unknown option ${argv[i]}`);
    }
  }
  return options;
}

/** Peak resident memory (VmHWM) of a process, in MB. */
function vmHwmMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return line ? Math.round(Number(line.split(/\s+/)[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function childPids() {
  try {
    return readdirSync(`/proc/${process.pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

const options = parseArgs(process.argv.slice(2));
// The product's heap cap in Azure is 5/8 of the instance memory (infra/main.bicep, NODE_OPTIONS): 320 MB on the
// smallest (512 MB) instance, which is what the benchmark runs with unless told otherwise (0: no cap).
const heapMb = options.heapMb ?? 320;
options.heapMb = heapMb;
const work = await mkdtemp(path.join(os.tmpdir(), 'license-sync-bench-'));
const cert = await ensureLocalCertificate(path.join(work, 'tls'));
const before = new Set(childPids());
const azurite = await startAzurite();
const azuritePids = childPids().filter((pid) => !before.has(pid));

const baseEnv = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: cert.certPath,
  LICENSE_SYNC_BENCH_CERT: cert.certPath,
  LICENSE_SYNC_BENCH_KEY: cert.keyPath,
  LICENSE_SYNC_BENCH_WORK_DIR: work,
  AzureWebJobsStorage: azurite.connectionString,
};

let child;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child?.kill(signal));

/** Runs bench/run.mjs with these options; resolves with its JSON line (undefined if it printed none) and code. */
function runBench(benchOptions, echo) {
  return new Promise((resolve) => {
    child = spawn(
      process.execPath,
      ['--expose-gc', ...(heapMb > 0 ? [`--max-old-space-size=${heapMb}`] : []), path.join(root, 'bench/run.mjs')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...baseEnv, LICENSE_SYNC_BENCH_OPTIONS: JSON.stringify(benchOptions) },
        cwd: root,
      },
    );
    let lastLine = '';
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{')) lastLine = line;
        else if (echo) console.log(line);
      }
    });
    child.on('exit', (code, signal) => {
      if (buffered.startsWith('{')) lastLine = buffered;
      else if (buffered && echo) console.log(buffered);
      resolve({ result: lastLine ? JSON.parse(lastLine) : undefined, code: code ?? (signal ? 1 : 0) });
    });
  });
}

const users = options.users ?? 100_000;
const main = await runBench(options, true);
const azuriteRssMb = Math.max(0, ...azuritePids.map(vmHwmMb).filter((n) => n !== undefined));
let code = main.code;
const result = main.result;
if (result) {
  result.azuriteRssMb = azuriteRssMb || undefined;
  console.log(`peak RSS of Azurite: ${azuriteRssMb} MB`);
  // Peak memory of a first sync by tenant size, each in a fresh process (a process's peak never goes down).
  const sizes = (options.rssSizes ?? [10_000, 50_000]).filter((n) => n !== users);
  const byUsers = {};
  for (const size of sizes) {
    const run = await runBench({ ...options, users: size, scenarios: ['full'], latency: 'off', rssSizes: [] }, false);
    if (run.code !== 0) code = run.code;
    byUsers[size] = run.result?.full?.peakRssMb;
  }
  if (result.full?.peakRssMb !== undefined) byUsers[users] = result.full.peakRssMb;
  const known = Object.entries(byUsers)
    .map(([n, rss]) => [Number(n), rss])
    .filter(([, rss]) => rss !== undefined)
    .sort((a, b) => a[0] - b[0]);
  if (known.length >= 2) {
    const [[n0, r0], [n1, r1]] = [known[0], known[known.length - 1]];
    const slope = (r1 - r0) / ((n1 - n0) / 10_000);
    // A 2 GB Flex instance gives the worker 2,048 MB (the platform keeps its own buffer beside it).
    const largest = slope > 0 ? Math.floor((n1 + ((2048 - r1) / slope) * 10_000) / 10_000) * 10_000 : undefined;
    result.rss = {
      byUsersMb: byUsers,
      slopeMbPer10kUsers: Math.round(slope * 10) / 10,
      largestTenantOn2GbInstance: largest,
    };
    console.log(
      `peak RSS of a first sync: ${known.map(([n, rss]) => `${n} users ${rss} MB`).join(', ')}; ${result.rss.slopeMbPer10kUsers} MB per 10,000 users; a 2 GB instance: up to about ${largest} users`,
    );
  }
}
await azurite.stop();
await rm(work, { recursive: true, force: true });
if (result) console.log(JSON.stringify(result));
process.exit(code);
