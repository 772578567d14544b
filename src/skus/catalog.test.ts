import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testSettings } from '../../test/support/env';
import { freePort } from '../local/azurite';
import { formatSnapshot, loadSkuNameCatalog, parseProductNames, SkuNameCatalogLoader, type Product } from './index';

// A few products of Microsoft's list as published (BOM, CRLF, quoted commas, several service-plan rows each).
const CSV = readFileSync(path.resolve(__dirname, '../../test/fixtures/product-names.csv'));

const E3 = { id: '6fd2c87f-b296-42f0-b197-1e91e994b900', part: 'ENTERPRISEPACK' };
const BUSINESS_PREMIUM = { id: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46', part: 'SPB' };
const M365_E3 = { id: '05e9a617-0261-4cee-bb44-138d3ef5d965', part: 'SPE_E3' };
const VISIO = { id: 'c5928f49-12ba-48f7-ada3-0d743a3601d5', part: 'VISIOCLIENT' };
const UNKNOWN = { id: '00000000-0000-0000-0000-000000000000', part: 'CONTOSO_SPECIAL' };
const DAY = 24 * 60 * 60 * 1000;

interface ListServer {
  url: string;
  hits: () => number;
  mode: 'ok' | 'error' | 'hang' | 'huge';
  close(): Promise<void>;
}

async function listServer(): Promise<ListServer> {
  let hits = 0;
  const state: ListServer = {
    url: '',
    hits: () => hits,
    mode: 'ok',
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    hits += 1;
    if (state.mode === 'error') {
      res.writeHead(500).end('oops');
    } else if (state.mode === 'hang') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write(CSV.subarray(0, 100));
    } else if (state.mode === 'huge') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(Buffer.concat([CSV, CSV, CSV]));
    } else {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': CSV.length }).end(CSV);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/product-names.csv`;
  const close = state.close;
  state.close = async () => {
    server.closeAllConnections();
    await close();
  };
  return state;
}

function quietLogger(): { warn: jest.Mock; info: jest.Mock; messages: () => string[] } {
  const warn = jest.fn();
  return { warn, info: jest.fn(), messages: () => warn.mock.calls.map((call) => String(call[0])) };
}

let server: ListServer;
let work: string;
/** A snapshot whose names differ from the download's, so each test can tell which list named a plan. */
let snapshotPath: string;
let corruptSnapshot: string;

beforeAll(async () => {
  server = await listServer();
  work = await mkdtemp(path.join(os.tmpdir(), 'sku-names-'));
  const products: Product[] = [
    [E3.id, E3.part, 'Office 365 E3 (snapshot)'],
    [VISIO.id, VISIO.part, 'Visio Plan 2 (snapshot)'],
  ];
  snapshotPath = path.join(work, 'product-names.json');
  await writeFile(snapshotPath, formatSnapshot({ about: 'test', sha256: '0'.repeat(64), products }));
  corruptSnapshot = path.join(work, 'corrupt.json');
  await writeFile(corruptSnapshot, '{"about": "cut off", "products": [["6fd2c87f');
});

afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  server.mode = 'ok';
});

describe('parsing the product-names list', () => {
  it('keeps one entry per product from a list with a BOM, quoted commas and a row per service plan', () => {
    expect(parseProductNames(CSV.toString('utf8'))).toEqual([
      [E3.id, E3.part, 'Office 365 E3'],
      [BUSINESS_PREMIUM.id, BUSINESS_PREMIUM.part, 'Microsoft 365 Business Premium'],
      [M365_E3.id, M365_E3.part, 'Microsoft 365 E3'],
      ['18181a46-0d4e-45cd-891e-60aabd171b4e', 'STANDARDPACK', 'Office 365 E1'],
      [
        '977464c4-bfaf-4b67-b761-a9bb735a2196',
        'CRM_AUTO_ROUTING_ADDON',
        'Dynamics 365 Field Service, Enterprise Edition - Resource Scheduling Optimization',
      ],
      ['d43177b5-475b-4880-92d4-d54c27b5efbd', 'MCOPSTN5', 'Skype for Business PSTN Calling Domestic Small'],
      ['54a152dc-90de-4996-93d2-bc47e670fc06', 'MCOPSTN5', 'Skype for Business PSTN Domestic Calling (120 Minutes)'],
    ]);
  });

  it('refuses a document without the three columns it reads', () => {
    expect(() => parseProductNames('Name,Id\nOffice 365 E3,ENTERPRISEPACK\n')).toThrow(/lacks the columns/);
  });
});

describe('plan display names', () => {
  it('names plans by their GUID, and by their part number when the GUID is unknown', async () => {
    const logger = quietLogger();
    const catalog = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), { logger, snapshotPath });
    expect(catalog.source).toBe('download');
    expect(catalog.displayName(E3.id, E3.part)).toBe('Office 365 E3');
    expect(catalog.displayName(BUSINESS_PREMIUM.id.toUpperCase(), BUSINESS_PREMIUM.part)).toBe(
      'Microsoft 365 Business Premium',
    );
    expect(catalog.displayName(M365_E3.id, M365_E3.part)).toBe('Microsoft 365 E3');
    expect(catalog.displayName(UNKNOWN.id, 'spb')).toBe('Microsoft 365 Business Premium');
    expect(logger.warn).not.toHaveBeenCalled();
    expect(logger.info).toHaveBeenCalledWith(expect.stringMatching(/Downloaded .* 7 products/));
  });

  it('prefers the download, then the shipped snapshot, then the part number, name by name', async () => {
    const logger = quietLogger();
    const settings = testSettings({ skuNamesUrl: server.url });
    const downloaded = await loadSkuNameCatalog(settings, { logger, snapshotPath });
    expect(downloaded.source).toBe('download');
    expect(downloaded.displayName(E3.id, E3.part)).toBe('Office 365 E3');
    // Not in the download (Microsoft drops retired products): the snapshot still knows it.
    expect(downloaded.displayName(VISIO.id, VISIO.part)).toBe('Visio Plan 2 (snapshot)');
    expect(downloaded.displayName(UNKNOWN.id, UNKNOWN.part)).toBe(UNKNOWN.part);

    server.mode = 'error';
    const offline = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), { logger, snapshotPath });
    expect(offline.source).toBe('snapshot');
    expect(offline.displayName(E3.id, E3.part)).toBe('Office 365 E3 (snapshot)');
    expect(offline.displayName(M365_E3.id, M365_E3.part)).toBe(M365_E3.part);
    expect(logger.messages().join('\n')).toMatch(/HTTP 500.*shipped with the app \(2 products\)/);
  });

  it('names plans offline from the snapshot shipped with the app', async () => {
    server.mode = 'error';
    const logger = quietLogger();
    const catalog = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), { logger });
    expect(catalog.source).toBe('snapshot');
    expect(catalog.displayName(E3.id, E3.part)).toBe('Office 365 E3');
    expect(catalog.displayName(VISIO.id, VISIO.part)).toBe('Visio Plan 2');
    expect(catalog.size).toBeGreaterThan(500);
  });

  it('falls back to part numbers with a warning for each when neither the list nor the snapshot is usable', async () => {
    server.mode = 'error';
    const logger = quietLogger();
    const catalog = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), {
      logger,
      snapshotPath: corruptSnapshot,
    });
    expect(catalog.source).toBe('part-numbers');
    expect(catalog.displayName(E3.id, E3.part)).toBe('ENTERPRISEPACK');
    const messages = logger.messages().join('\n');
    expect(messages).toMatch(/shipped with the app \(.*corrupt\.json\) cannot be used \(.*JSON/);
    expect(messages).toMatch(/HTTP 500.*part number/);
  });

  it('downloads the list once a day: other instances read the cached copy from blob storage', async () => {
    const settings = testSettings({ skuNamesUrl: server.url });
    let clock = Date.parse('2025-03-01T08:00:00Z');
    const options = { logger: quietLogger(), now: () => clock, snapshotPath };
    const before = server.hits();

    await new SkuNameCatalogLoader(settings, options).load();
    expect(server.hits()).toBe(before + 1);

    clock += 23 * 60 * 60 * 1000;
    const cached = await new SkuNameCatalogLoader(settings, options).load();
    expect(server.hits()).toBe(before + 1);
    expect(cached.source).toBe('download');
    expect(cached.displayName(E3.id, E3.part)).toBe('Office 365 E3');

    clock += 2 * 60 * 60 * 1000;
    const refreshed = await new SkuNameCatalogLoader(settings, options).load();
    expect(server.hits()).toBe(before + 2);
    expect(refreshed.displayName(E3.id, E3.part)).toBe('Office 365 E3');
  });

  it('reuses its own copy within the day without downloading again', async () => {
    const loader = new SkuNameCatalogLoader(testSettings({ skuNamesUrl: server.url }), {
      logger: quietLogger(),
      snapshotPath,
    });
    const before = server.hits();
    await loader.load();
    server.mode = 'error';
    const again = await loader.load();
    expect(server.hits()).toBe(before + 1);
    expect(again.displayName(E3.id, E3.part)).toBe('Office 365 E3');
  });

  it("falls back to the snapshot with a warning when the list's server is down", async () => {
    const logger = quietLogger();
    const url = `http://127.0.0.1:${await freePort()}/product-names.csv`;
    const catalog = await loadSkuNameCatalog(testSettings({ skuNamesUrl: url }), { logger, snapshotPath });
    expect(catalog.displayName(E3.id, E3.part)).toBe('Office 365 E3 (snapshot)');
    expect(catalog.displayName(BUSINESS_PREMIUM.id, BUSINESS_PREMIUM.part)).toBe('SPB');
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('after a failed load, serves the fallback names for a while before trying the list again', async () => {
    let clock = Date.parse('2025-03-01T08:00:00Z');
    const loader = new SkuNameCatalogLoader(testSettings({ skuNamesUrl: server.url }), {
      logger: quietLogger(),
      now: () => clock,
      snapshotPath,
    });
    server.mode = 'error';
    const before = server.hits();
    expect((await loader.load()).source).toBe('snapshot');
    clock += 10 * 60_000;
    expect((await loader.load()).source).toBe('snapshot');
    expect(server.hits()).toBe(before + 1);

    server.mode = 'ok';
    clock += 6 * 60_000;
    expect((await loader.load()).displayName(E3.id, E3.part)).toBe('Office 365 E3');
    expect(server.hits()).toBe(before + 2);
  });

  it('gives up on a download that takes too long or is too large', async () => {
    server.mode = 'hang';
    const slow = quietLogger();
    const started = Date.now();
    const afterTimeout = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), {
      logger: slow,
      timeoutMs: 300,
      snapshotPath,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(afterTimeout.source).toBe('snapshot');
    expect(slow.messages().join('\n')).toMatch(/timed out/);

    server.mode = 'huge';
    const big = quietLogger();
    const tooLarge = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), {
      logger: big,
      maxBytes: 2 * CSV.length,
      snapshotPath,
    });
    expect(tooLarge.source).toBe('snapshot');
    expect(big.messages().join('\n')).toMatch(/larger than/);
  });

  it('keeps using the last downloaded names, before the snapshot, when the list cannot be fetched after a day', async () => {
    const settings = testSettings({ skuNamesUrl: server.url });
    let clock = Date.parse('2025-03-01T08:00:00Z');
    await new SkuNameCatalogLoader(settings, { logger: quietLogger(), now: () => clock, snapshotPath }).load();

    clock += 2 * DAY;
    server.mode = 'error';
    const logger = quietLogger();
    const stale = await new SkuNameCatalogLoader(settings, { logger, now: () => clock, snapshotPath }).load();
    expect(stale.source).toBe('stale-download');
    expect(stale.displayName(E3.id, E3.part)).toBe('Office 365 E3');
    expect(stale.displayName(VISIO.id, VISIO.part)).toBe('Visio Plan 2 (snapshot)');
    expect(logger.messages().join('\n')).toMatch(/last successful download/);
  });
});
