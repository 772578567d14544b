// `npm run bench`: measures the sync at scale against the simulated tenant and Azurite on this machine.
//   node scripts/bench.mjs [--users 100000] [--plans 30] [--portals 500] [--portal-users 100]
//                          [--scenarios full,noChange,delta,provider] [--heap-mb 320]
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
          'node scripts/bench.mjs [--users N] [--plans N] [--portals N] [--portal-users N] [--scenarios full,noChange,delta,provider] [--heap-mb N (0: no cap)] [--worker-concurrency N (default: host.json)]',
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

const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: cert.certPath,
  LICENSE_SYNC_BENCH_CERT: cert.certPath,
  LICENSE_SYNC_BENCH_KEY: cert.keyPath,
  LICENSE_SYNC_BENCH_WORK_DIR: work,
  LICENSE_SYNC_BENCH_OPTIONS: JSON.stringify(options),
  AzureWebJobsStorage: azurite.connectionString,
};

const child = spawn(
  process.execPath,
  ['--expose-gc', ...(heapMb > 0 ? [`--max-old-space-size=${heapMb}`] : []), path.join(root, 'bench/run.mjs')],
  { stdio: ['ignore', 'pipe', 'inherit'], env, cwd: root },
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
    else console.log(line);
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', async (code, signal) => {
  if (buffered.startsWith('{')) lastLine = buffered;
  else if (buffered) console.log(buffered);
  const azuriteRssMb = Math.max(0, ...azuritePids.map(vmHwmMb).filter((n) => n !== undefined));
  await azurite.stop();
  await rm(work, { recursive: true, force: true });
  if (lastLine) {
    const result = JSON.parse(lastLine);
    result.azuriteRssMb = azuriteRssMb || undefined;
    console.log(`peak RSS of Azurite: ${azuriteRssMb} MB`);
    console.log(JSON.stringify(result));
  }
  process.exit(code ?? (signal ? 1 : 0));
});
