// Runs before `npm start`, `npm test` and `npm run bench`: on a fresh clone (or after package-lock.json changed)
// it installs the locked dependencies, so those commands work as the first thing a newcomer types.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `m365-license-sync needs Node.js 22 or newer (this is ${process.version}); production runs Node 22 and the ` +
      "Azure SDKs require it. Install Node 22, or run the same command through the registry's node package: " +
      'npx -y -p node@22 npm start (or npm test).',
  );
  process.exit(1);
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const marker = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.log('Installing dependencies (npm ci)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
