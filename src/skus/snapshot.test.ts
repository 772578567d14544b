import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KNOWN_SKUS } from '../local/simulator/ids';
import { formatSnapshot, readSnapshot, SHIPPED_SNAPSHOT, snapshotOf } from './index';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/product-names.csv');
const SCRIPT = path.join(ROOT, 'scripts/refresh-sku-names.mjs');
// Microsoft's full list, when the workspace has a copy beside the repository (a clone from a public host has
// not); LICENSE_SYNC_TEST_PRODUCT_NAMES points elsewhere, e.g. at nothing to try the suite without it.
const FULL_LIST =
  process.env.LICENSE_SYNC_TEST_PRODUCT_NAMES ??
  path.resolve(ROOT, '../shared/data/product-names-and-service-plan-identifiers.csv');

const run = promisify(execFile);

/** Runs the refresh script; its exit code and output, without throwing on failure. */
async function refresh(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sku-snapshot-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the product-names snapshot', () => {
  it("derives one entry per product, sorted by part number, with the source's SHA-256", () => {
    const csv = readFileSync(FIXTURE, 'utf8');
    const snapshot = snapshotOf(csv);
    expect(snapshot.sha256).toBe(createHash('sha256').update(csv).digest('hex'));
    expect(snapshot.products.map(([, part]) => part)).toEqual([
      'CRM_AUTO_ROUTING_ADDON',
      'ENTERPRISEPACK',
      'MCOPSTN5',
      'MCOPSTN5',
      'SPB',
      'SPE_E3',
      'STANDARDPACK',
    ]);
    expect(snapshot.products.filter(([, part]) => part === 'MCOPSTN5').map(([id]) => id)).toEqual([
      '54a152dc-90de-4996-93d2-bc47e670fc06',
      'd43177b5-475b-4880-92d4-d54c27b5efbd',
    ]);
  });

  it('is written one product a line and reads back as written', async () => {
    const snapshot = snapshotOf(readFileSync(FIXTURE, 'utf8'));
    const file = path.join(work, 'roundtrip.json');
    const text = formatSnapshot(snapshot);
    await writeFile(file, text);
    expect(readSnapshot(file)).toEqual(snapshot);
    expect(text.split('\n').filter((line) => line.startsWith('    ["'))).toHaveLength(7);
  });

  it('refuses a file that is not JSON, holds no products, or has a malformed skuId', async () => {
    const write = async (name: string, text: string) => {
      const file = path.join(work, name);
      await writeFile(file, text);
      return file;
    };
    const valid = { about: 'x', sha256: 'a'.repeat(64), products: [[KNOWN_SKUS.SPB, 'SPB', 'Business Premium']] };
    expect(() => readSnapshot(path.join(work, 'missing.json'))).toThrow(/ENOENT/);
    expect(readSnapshot(await write('valid.json', JSON.stringify(valid))).products).toHaveLength(1);
    const truncated = await write('truncated.json', '{"products": [');
    expect(() => readSnapshot(truncated)).toThrow(SyntaxError);
    const empty = await write('empty.json', JSON.stringify({ ...valid, products: [] }));
    expect(() => readSnapshot(empty)).toThrow(/not a product-names snapshot \(products: /);
    const badId = await write('bad-id.json', JSON.stringify({ ...valid, products: [['SPB', 'SPB', 'x']] }));
    expect(() => readSnapshot(badId)).toThrow(/not a product-names snapshot \(products\.0\.0: /);
  });

  it('ships with the app: valid, in its canonical form, naming the demo plans, and copied into the build', () => {
    const text = readFileSync(SHIPPED_SNAPSHOT, 'utf8');
    const shipped = readSnapshot(SHIPPED_SNAPSHOT);
    expect(formatSnapshot(shipped)).toBe(text);
    const names = new Map(shipped.products.map(([id, part, name]) => [id, { part, name }]));
    for (const [part, id] of Object.entries(KNOWN_SKUS)) expect(names.get(id)?.part).toBe(part);
    expect(names.get(KNOWN_SKUS.ENTERPRISEPACK!)?.name).toBe('Office 365 E3');
    expect(Buffer.byteLength(text)).toBeLessThan(300 * 1024);
    // The app reads it beside the compiled catalog (dist/src/skus), which the deployment package copies whole.
    expect(readSnapshot(path.join(ROOT, 'dist/src/skus/product-names.json'))).toEqual(shipped);
  });
});

describe('npm run refresh-sku-names', () => {
  it("rewrites the snapshot from a copy of Microsoft's CSV with the app's own parser", async () => {
    const out = path.join(work, 'from-file.json');
    const result = await refresh(FIXTURE, '--out', out);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/7 products, \d+ bytes \(rewritten\)/) });
    expect(await readFile(out, 'utf8')).toBe(formatSnapshot(snapshotOf(readFileSync(FIXTURE, 'utf8'))));
    expect((await refresh(FIXTURE, '--out', out)).stdout).toMatch(/\(unchanged\)/);
  });

  it('downloads the list from an address, and leaves the snapshot alone when the download fails', async () => {
    const csv = readFileSync(FIXTURE);
    let fail = false;
    const server = http.createServer((_req, res) => {
      if (fail) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'text/csv' }).end(csv);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/names.csv`;
      const out = path.join(work, 'from-url.json');
      expect((await refresh(url, '--out', out)).code).toBe(0);
      const written = await readFile(out, 'utf8');
      expect(readSnapshot(out).products).toHaveLength(7);

      fail = true;
      const failed = await refresh(url, '--out', out);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/Could not read the product-names list from .*HTTP 503/);
      expect(await readFile(out, 'utf8')).toBe(written);
    } finally {
      server.close();
    }
  });

  it('refuses a file that is not the product-names list and writes nothing', async () => {
    const notTheList = path.join(work, 'other.csv');
    await writeFile(notTheList, 'Name,Id\nOffice 365 E3,ENTERPRISEPACK\n');
    const out = path.join(work, 'never.json');
    const result = await refresh(notTheList, '--out', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not Microsoft's product-names list: the list lacks the columns/);
    expect(existsSync(out)).toBe(false);
  });
});

const full = existsSync(FULL_LIST) ? readFileSync(FULL_LIST, 'utf8') : undefined;
const shippedSha = readSnapshot(SHIPPED_SNAPSHOT).sha256;
const fullSha = full === undefined ? undefined : createHash('sha256').update(full).digest('hex');

describe("Microsoft's full list (optional: only where a copy is beside the repository)", () => {
  const withFull = full === undefined ? it.skip : it;
  const absent =
    full === undefined
      ? ` [skipped: no copy at ${path.relative(ROOT, FULL_LIST)}; LICENSE_SYNC_TEST_PRODUCT_NAMES may name one]`
      : '';

  withFull(`parses into more than 500 products, a name containing a comma among them${absent}`, () => {
    const products = new Map(snapshotOf(full!).products.map(([id, , name]) => [id, name]));
    expect(products.size).toBeGreaterThan(500);
    expect(products.get('977464c4-bfaf-4b67-b761-a9bb735a2196')).toBe(
      'Dynamics 365 Field Service, Enterprise Edition - Resource Scheduling Optimization',
    );
  });

  // Another edition than the snapshot's (the snapshot refreshed from Microsoft since) is no error.
  const sameEdition = full !== undefined && fullSha === shippedSha;
  const other = full !== undefined && !sameEdition ? ' [skipped: the copy is another edition of the list]' : '';
  (sameEdition ? it : it.skip)(`is what the shipped snapshot was derived from, byte for byte${absent}${other}`, () => {
    expect(formatSnapshot(snapshotOf(full!))).toBe(readFileSync(SHIPPED_SNAPSHOT, 'utf8'));
  });
});
