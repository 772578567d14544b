// `npm test`: the suite needs two things a Jest config cannot give its workers: a certificate the process
// trusts from its start (NODE_EXTRA_CA_CERTS, read once by Node) for the simulated Microsoft endpoints, and
// one Azurite for the whole run. This script makes both, then runs Jest with any arguments passed through.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { ensureLocalCertificate } = require(path.join(root, 'dist/src/local/tls.js'));
const { startAzurite } = require(path.join(root, 'dist/src/local/azurite.js'));

const work = await mkdtemp(path.join(os.tmpdir(), 'license-sync-test-'));
const cert = await ensureLocalCertificate(path.join(work, 'tls'));
const azurite = await startAzurite();

const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: cert.certPath,
  LICENSE_SYNC_TEST_CERT: cert.certPath,
  LICENSE_SYNC_TEST_KEY: cert.keyPath,
  LICENSE_SYNC_TEST_WORK_DIR: work,
  AzureWebJobsStorage: azurite.connectionString,
};

const jestBin = require.resolve('jest/bin/jest');
const child = spawn(process.execPath, [jestBin, ...process.argv.slice(2)], { stdio: 'inherit', env, cwd: root });
const stop = async () => {
  await azurite.stop();
  await rm(work, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', async (code, signal) => {
  await stop();
  process.exit(code ?? (signal ? 1 : 0));
});
