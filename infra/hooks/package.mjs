// Assembles the function app's deployment package in dist/package (azd's `prepackage` hook; also run by hand
// before `func azure functionapp publish` or a zip deployment, see docs/deploy.md):
//   dist/          compiled functions and src (tests left out)
//   web/           the admin page, served by the app itself
//   host.json
//   package.json   without its scripts, so a remote build installs dependencies and builds nothing
//   package-lock.json, node_modules/ (production dependencies only, exactly as locked)
// Usage: node infra/hooks/package.mjs [--skip-build]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = path.join(root, 'dist', 'package');
const skipBuild = process.argv.includes('--skip-build');

function npm(args, cwd) {
  console.log(`> npm ${args.join(' ')}  (in ${path.relative(root, cwd) || '.'})`);
  // npm is npm.cmd on Windows, which only a shell can start.
  const result = spawnSync('npm', args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`npm ${args.join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}

if (!skipBuild) {
  npm(['ci', '--no-audit', '--no-fund'], root);
  npm(['run', 'build'], root);
}

const compiled = path.join(root, 'dist');
if (!existsSync(path.join(compiled, 'functions'))) {
  console.error('dist/functions is missing: run `npm run build` first');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// dist/ holds the package itself and the compiled tests: copy the rest, one entry at a time.
for (const entry of readdirSync(compiled)) {
  if (entry === 'package' || entry === 'test') continue;
  cpSync(path.join(compiled, entry), path.join(out, 'dist', entry), {
    recursive: true,
    filter: (source) => !/\.test\.js(\.map)?$/.test(source),
  });
}
for (const item of ['host.json', 'package-lock.json', 'web']) {
  const source = path.join(root, item);
  if (existsSync(source)) cpSync(source, path.join(out, item), { recursive: true });
}

// Dependencies stay as they are, so package.json and package-lock.json agree (npm ci, and any remote build).
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
delete manifest.scripts;
writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

npm(['ci', '--omit=dev', '--no-audit', '--no-fund'], out);
console.log(`Deployment package ready: ${path.relative(root, out)}`);
