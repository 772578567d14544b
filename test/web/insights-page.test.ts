import type { Page } from 'playwright-core';
import {
  addDemoTenant,
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_TENANT_ID,
  demoPriceList,
} from '../../src/local/simulator/demo';
import { startSimulator, type Simulator } from '../../src/local/simulator/server';
import { testTls } from '../support/env';
import {
  openBrowser,
  screenshot,
  serveProductNames,
  startApp,
  unlabelledControls,
  type Browser,
  type RunningApp,
} from './app';

/**
 * The insight views in Chromium against the app as `npm start` runs it: the demo tenant's subscriptions, sign-in
 * activity and prices, on a license's page (subscriptions, history chart, price), Waste, Licensed users, Prices.
 */

jest.setTimeout(120_000);

let simulator: Simulator;
let names: { url: string; close(): Promise<void> };
let app: RunningApp;
let browser: Browser;
let page: Page;
let portalId: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  simulator = await startSimulator(testTls());
  addDemoTenant(simulator);
  names = await serveProductNames();
  app = await startApp({
    LICENSE_SYNC_DEMO: 'off',
    LICENSE_SYNC_AUTHORITY_HOST: simulator.authorityHost,
    LICENSE_SYNC_GRAPH_ENDPOINT: simulator.graphEndpoint,
    LICENSE_SYNC_SKU_NAMES_URL: names.url,
    LICENSE_SYNC_LOCAL_POLL_INTERVAL: '0.2',
  });
  const created = await api('POST', '/api/portals', {
    name: 'Contoso',
    tenantId: DEMO_TENANT_ID,
    clientId: DEMO_CLIENT_ID,
    activity: true,
    auth: { kind: 'clientSecret', clientSecret: DEMO_CLIENT_SECRET },
  });
  expect(created.status).toBe(201);
  portalId = created.body.id;
  for (const { skuId, price } of demoPriceList())
    expect((await api('PUT', `/api/prices/${skuId}`, price)).status).toBe(200);
  expect((await api('POST', `/api/portals/${portalId}/sync`)).status).toBe(202);
  for (let i = 0; i < 100; i++) {
    const portal = await api('GET', `/api/portals/${portalId}`);
    if (portal.body.lastRun?.status === 'succeeded') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  browser = await openBrowser();
  page = browser.page;
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await names?.close();
  await simulator?.close();
});

afterEach(async () => {
  expect(await unlabelledControls(page)).toEqual([]);
  expect(browser.errors).toEqual([]);
});

describe('the insight views', () => {
  it("shows a license's subscriptions with the next renewal, its history chart with a table, and its price", async () => {
    await page.goto(`${app.url}/#/licenses`);
    await page.getByRole('link', { name: 'Contoso - Office 365 E3' }).click();
    await page.getByRole('heading', { name: 'Subscriptions' }).waitFor();
    expect(await page.locator('.renewal').textContent()).toContain('Next renewal or expiry');
    expect(await page.locator('section:has(h2:text("Subscriptions")) tbody tr').count()).toBe(2);
    // uPlot draws on a canvas; the values are in the table for screen readers.
    await page.locator('.history-chart canvas').first().waitFor();
    expect(await page.getByRole('img', { name: /History from/ }).count()).toBe(1);
    expect(await page.locator('.history-values tbody tr').count()).toBe(1);
    expect(await page.locator('.price-line').textContent()).toContain('$23.00');
    await screenshot(page, 'insights-01-license');
  });

  it('edits the license price as an admin', async () => {
    const form = page.locator('section:has(h2:text("Price")) form');
    await form.getByLabel('Amount per seat').fill('20');
    await form.getByLabel('Currency').fill('usd');
    await form.getByRole('button', { name: 'Set this license’s price' }).click();
    await page.locator('.price-line').filter({ hasText: 'this license’s own price' }).waitFor();
    expect(await page.locator('.price-line').textContent()).toContain('$20.00');
  });

  it('ranks waste by reclaimable money, with the inactive holders one click away', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Waste' }).click();
    await page.getByRole('heading', { level: 1, name: 'Waste' }).waitFor();
    const first = page.locator('#waste-table tbody tr').first();
    expect(await first.locator('th').textContent()).toBe('Contoso - Office 365 E3');
    await screenshot(page, 'insights-02-waste');
    await first.getByTitle('Show the inactive holders').click();
    await page.getByText(/Showing the 3 inactive holders/).waitFor();
    const holders = await page.locator('tbody tr .contact-name').allTextContents();
    expect(holders.sort()).toEqual(['Debra Berger', 'Henrietta Mueller', 'Isaiah Langer']);
    expect(await page.getByRole('region', { name: 'Consumers' }).textContent()).toContain('Never signed in');
    await screenshot(page, 'insights-03-inactive-holders');
  });

  it('shows the licensed users of the month and the prices', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Licensed users' }).click();
    const cells = page.locator('#licensed-users-table tbody tr td.num');
    await cells.first().waitFor();
    expect(await cells.allTextContents()).toEqual(['25', '25']);
    await screenshot(page, 'insights-04-licensed-users');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Prices' }).click();
    await page.locator('#prices-table').waitFor();
    expect(await page.locator('#prices-table tbody tr').count()).toBe(5);
    expect(await page.locator('#prices-table').textContent()).toContain('276 USD per year');
    await screenshot(page, 'insights-05-prices');
  });
});
