import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { testSettings } from '../../test/support/env';
import { freePort } from '../local/azurite';
import { loadSkuNameCatalog, parseProductNames, SkuNameCatalogLoader } from './index';

// Microsoft's list as published, shared by the whole workspace (never copied into the repo).
const CSV = readFileSync(
  path.resolve(__dirname, '../../../shared/data/product-names-and-service-plan-identifiers.csv'),
);

const E3 = { id: '6fd2c87f-b296-42f0-b197-1e91e994b900', part: 'ENTERPRISEPACK' };
const BUSINESS_PREMIUM = { id: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46', part: 'SPB' };
const M365_E3 = { id: '05e9a617-0261-4cee-bb44-138d3ef5d965', part: 'SPE_E3' };
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

function quietLogger(): { warn: jest.Mock; messages: () => string[] } {
  const warn = jest.fn();
  return { warn, messages: () => warn.mock.calls.map((call) => String(call[0])) };
}

let server: ListServer;

beforeAll(async () => {
  server = await listServer();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.mode = 'ok';
});

describe('parsing the product-names list', () => {
  it('keeps one name per product from a list with a BOM and quoted commas', () => {
    const products = parseProductNames(CSV.toString('utf8'));
    const byGuid = new Map(products.map(([guid, , name]) => [guid, name]));
    expect(byGuid.get(E3.id)).toBe('Office 365 E3');
    expect(byGuid.get('977464c4-bfaf-4b67-b761-a9bb735a2196')).toBe(
      'Dynamics 365 Field Service, Enterprise Edition - Resource Scheduling Optimization',
    );
    expect(new Set(products.map(([guid]) => guid)).size).toBe(products.length);
    expect(products.length).toBeGreaterThan(500);
  });
});

describe('plan display names', () => {
  it('names well-known plans by their GUID, and by their part number when the GUID is unknown', async () => {
    const logger = quietLogger();
    const catalog = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), { logger });
    expect(catalog.displayName(E3.id, E3.part)).toBe('Office 365 E3');
    expect(catalog.displayName(BUSINESS_PREMIUM.id.toUpperCase(), BUSINESS_PREMIUM.part)).toBe(
      'Microsoft 365 Business Premium',
    );
    expect(catalog.displayName(M365_E3.id, M365_E3.part)).toBe('Microsoft 365 E3');
    expect(catalog.displayName('00000000-0000-0000-0000-000000000000', 'spb')).toBe('Microsoft 365 Business Premium');
    expect(catalog.displayName('00000000-0000-0000-0000-000000000000', 'CONTOSO_SPECIAL')).toBe('CONTOSO_SPECIAL');
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('downloads the list once a day: other instances read the cached copy from blob storage', async () => {
    const settings = testSettings({ skuNamesUrl: server.url });
    let clock = Date.parse('2025-03-01T08:00:00Z');
    const options = { logger: quietLogger(), now: () => clock };
    const before = server.hits();

    await new SkuNameCatalogLoader(settings, options).load();
    expect(server.hits()).toBe(before + 1);

    clock += 23 * 60 * 60 * 1000;
    const cached = await new SkuNameCatalogLoader(settings, options).load();
    expect(server.hits()).toBe(before + 1);
    expect(cached.displayName(E3.id, E3.part)).toBe('Office 365 E3');

    clock += 2 * 60 * 60 * 1000;
    const refreshed = await new SkuNameCatalogLoader(settings, options).load();
    expect(server.hits()).toBe(before + 2);
    expect(refreshed.displayName(E3.id, E3.part)).toBe('Office 365 E3');
  });

  it('reuses its own copy within the day without downloading again', async () => {
    const loader = new SkuNameCatalogLoader(testSettings({ skuNamesUrl: server.url }), { logger: quietLogger() });
    const before = server.hits();
    await loader.load();
    server.mode = 'error';
    const again = await loader.load();
    expect(server.hits()).toBe(before + 1);
    expect(again.displayName(E3.id, E3.part)).toBe('Office 365 E3');
  });

  it('falls back to part numbers with a warning when the list answers 500', async () => {
    server.mode = 'error';
    const logger = quietLogger();
    const catalog = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), { logger });
    expect(catalog.displayName(E3.id, E3.part)).toBe('ENTERPRISEPACK');
    expect(logger.messages().join('\n')).toMatch(/HTTP 500.*part number/);
  });

  it("falls back to part numbers with a warning when the list's server is down", async () => {
    const logger = quietLogger();
    const url = `http://127.0.0.1:${await freePort()}/product-names.csv`;
    const catalog = await loadSkuNameCatalog(testSettings({ skuNamesUrl: url }), { logger });
    expect(catalog.displayName(BUSINESS_PREMIUM.id, BUSINESS_PREMIUM.part)).toBe('SPB');
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('gives up on a download that takes too long or is too large', async () => {
    server.mode = 'hang';
    const slow = quietLogger();
    const started = Date.now();
    const afterTimeout = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), {
      logger: slow,
      timeoutMs: 300,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(afterTimeout.displayName(E3.id, E3.part)).toBe('ENTERPRISEPACK');
    expect(slow.messages().join('\n')).toMatch(/timed out/);

    server.mode = 'huge';
    const big = quietLogger();
    const tooLarge = await loadSkuNameCatalog(testSettings({ skuNamesUrl: server.url }), {
      logger: big,
      maxBytes: 2 * CSV.length,
    });
    expect(tooLarge.displayName(E3.id, E3.part)).toBe('ENTERPRISEPACK');
    expect(big.messages().join('\n')).toMatch(/larger than/);
  });

  it('keeps using the last downloaded names when the list cannot be fetched after a day', async () => {
    const settings = testSettings({ skuNamesUrl: server.url });
    let clock = Date.parse('2025-03-01T08:00:00Z');
    await new SkuNameCatalogLoader(settings, { logger: quietLogger(), now: () => clock }).load();

    clock += 2 * DAY;
    server.mode = 'error';
    const logger = quietLogger();
    const stale = await new SkuNameCatalogLoader(settings, { logger, now: () => clock }).load();
    expect(stale.displayName(E3.id, E3.part)).toBe('Office 365 E3');
    expect(logger.messages().join('\n')).toMatch(/last successful download/);
  });
});
