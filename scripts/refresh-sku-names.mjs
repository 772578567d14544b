// Rewrites src/skus/product-names.json, the snapshot of Microsoft's product-names list that ships with the app
// (skuId, part number, display name; one entry per product), from Microsoft's address or from a copy of the CSV.
// It uses the app's own download and CSV parser from dist/, so run it as `npm run refresh-sku-names`, which
// builds first, then commit the snapshot (never the CSV itself).
// Usage: npm run refresh-sku-names [-- <file.csv | https://address>] [--out <file>]
//   no source: downloads from Microsoft's official address (the default of LICENSE_SYNC_SKU_NAMES_URL)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const compiled = path.join(root, 'dist/src/skus/index.js');
if (!existsSync(compiled)) {
  console.error('dist/ is missing: run `npm run build` first (or use `npm run refresh-sku-names`).');
  process.exit(1);
}
const { download, formatSnapshot, snapshotOf } = require(compiled);
const { DEFAULT_SKU_NAMES_URL } = require(path.join(root, 'dist/src/config/settings.js'));

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const outArg = outAt >= 0 ? args.splice(outAt, 2)[1] : path.join(root, 'src/skus/product-names.json');
const [source = DEFAULT_SKU_NAMES_URL, ...extra] = args;
if (extra.length > 0 || !outArg) {
  console.error('Usage: npm run refresh-sku-names [-- <file.csv | https://address>] [--out <file>]');
  process.exit(2);
}

let csv;
try {
  csv = /^https?:\/\//.test(source)
    ? await download(source, 120_000, 64 * 1024 * 1024)
    : readFileSync(path.resolve(source), 'utf8');
} catch (error) {
  console.error(`Could not read the product-names list from ${source}: ${error.message}`);
  process.exit(1);
}

let text;
try {
  text = formatSnapshot(snapshotOf(csv));
} catch (error) {
  console.error(`${source} is not Microsoft's product-names list: ${error.message}`);
  process.exit(1);
}
const out = path.resolve(outArg);
const before = existsSync(out) ? readFileSync(out, 'utf8') : '';
writeFileSync(out, text);
const { products } = JSON.parse(text);
console.log(
  `${path.relative(process.cwd(), out) || out}: ${products.length} products, ${Buffer.byteLength(text)} bytes` +
    (before === text ? ' (unchanged).' : ' (rewritten).'),
);
