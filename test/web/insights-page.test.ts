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
    // The demo's Sales group ran out of E3 seats for one member (CountViolation).
    expect(await page.locator('.stat', { hasText: 'Failed assignments' }).innerText()).toMatch(/^1\s/);
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

describe('the Renewals view', () => {
  const e3Row = (seats: number) =>
    page.locator('#renewals-table tbody tr', { hasText: 'Office 365 E3' }).filter({
      has: page.locator(`td.num:nth-child(4):text-is("${seats}")`),
    });

  it('lists the renewals soonest first with the deadline, seats to cut and money per term; the holders one click away', async () => {
    // The license's own price of the test above (if it ran) goes: the plan's 276 USD a year (23 a month) applies.
    const e3 = (await api('GET', `/api/licenses?portalId=${portalId}`)).body.items.find(
      (l: { skuPartNumber: string }) => l.skuPartNumber === 'ENTERPRISEPACK',
    );
    expect([204, 404]).toContain((await api('DELETE', `/api/licenses/${e3.id}/price`)).status);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Renewals' }).click();
    await page.locator('#renewals-table').waitFor();
    const renews = await page
      .locator('#renewals-table tbody tr time')
      .evaluateAll((els) => els.map((el) => el.getAttribute('datetime') ?? ''));
    expect(renews.length).toBeGreaterThanOrEqual(3);
    expect(renews).toEqual([...renews].sort());
    // The yearly E3 subscription (10 seats, a month ahead): 12 holders, 8 active (one disabled, three inactive),
    // 8 + 1 buffer = 9 seats, all kept by it as it renews last: 1 to cut, 1 x 23 USD x 12 months.
    const yearly = e3Row(10);
    expect(await yearly.locator('td').allInnerTexts()).toEqual([
      expect.stringMatching(/in 3[12] days/),
      expect.stringContaining('Yearly (inferred)'),
      '10',
      '8 of 12',
      '9',
      '1',
      '$276.00',
      '1 disabled, 3 inactive',
    ]);
    // The monthly top-up renews first and the yearly one covers what is needed already: both its seats go.
    expect(await e3Row(2).locator('td').nth(5).innerText()).toBe('2');
    // Subscriptions that will not renew are labelled, with nothing to cut or save: the suspended Visio one, the
    // Business Premium one in its grace period, the Power BI trial (whose seats cost nothing: no euros anywhere).
    for (const [name, label] of [
      ['Visio', 'Suspended: will not renew'],
      ['Business Premium', 'Expired, in grace period'],
      ['Power BI Pro', 'Trial: seats cost nothing'],
    ]) {
      const row = page.locator('#renewals-table tbody tr', { hasText: name });
      expect(await row.locator('.not-renewing').innerText()).toBe(label);
      expect((await row.locator('td').allInnerTexts()).slice(5, 7)).toEqual(['–', 'nothing to save']);
    }
    // The totals are the two E3 renewals only: 1 + 2 seats, 276 + 46 USD.
    const totals = page.getByRole('region', { name: 'Totals' });
    expect(await totals.locator('.stat').allInnerTexts()).toEqual([
      expect.stringMatching(/^3\s+seats to cut in 2 renewals$/),
      expect.stringMatching(/^\$322\.00\s+saved over the terms \(USD\)$/),
    ]);
    expect(await page.locator('#renewals-left-out').innerText()).toContain('3 subscriptions that will not renew');
    expect(await page.locator('#renewals-table').innerText()).not.toContain('€');
    const csv = await page.getByRole('link', { name: 'Download renewals as CSV' }).getAttribute('href');
    expect(csv).toBe('/api/insights/renewals?withinDays=90&format=csv');
    const file = await fetch(`${app.url}${csv}`);
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="renewals-\d{4}-\d{2}-\d{2}\.csv"$/);
    await screenshot(page, 'renewals-01-view');

    await yearly.getByRole('link', { name: '3 inactive' }).click();
    // The filter's notice is where the link lands, at the top of the page, not under the insight cards.
    const notice = page.getByText(/Showing the 3 inactive holders/);
    await notice.waitFor();
    expect((await notice.boundingBox())!.y).toBeLessThan(page.viewportSize()!.height);
    await page.getByRole('button', { name: 'Go to them' }).click();
    // Scrolled until the list's heading is on screen (smoothly or not, the page cannot scroll it higher).
    await page.waitForFunction(() => {
      const { top, bottom } = document.getElementById('consumers-title')!.getBoundingClientRect();
      return top >= 0 && bottom <= window.innerHeight;
    });
    const next = page.locator('.next-recommendation');
    await next.waitFor();
    expect(await next.innerText()).toMatch(
      /in 1[78] days.*monthly, inferred, 2 seats\)\. Cut 2 seats to 0, saving \$46\.00 per term\./,
    );
    await screenshot(page, 'renewals-02-license');
  });

  it("labels a license's subscription that will not renew on its page, with no recommendation for it", async () => {
    await page.goto(`${app.url}/#/renewals`);
    await page.locator('#renewals-table tbody tr', { hasText: 'Visio' }).getByRole('link').first().click();
    const card = page.getByRole('region', { name: 'Right-size before renewal' });
    await card.locator('.not-renewing').waitFor();
    expect(await card.locator('.not-renewing').innerText()).toMatch(
      /^Suspended: will not renew 5 seats until .* in 2[45] days: nothing to cut or save\.$/,
    );
    expect(await card.innerText()).toContain('No subscription of this plan renews within a year.');
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'renewals-04-suspended-license');
  });

  it('lets an admin set a term (three years) and go back to the inferred one', async () => {
    await page.goto(`${app.url}/#/renewals`);
    const select = e3Row(10).getByRole('combobox');
    await select.selectOption('threeYears');
    await page.getByText('Term saved.').first().waitFor();
    await e3Row(10).locator('td', { hasText: '$828.00' }).waitFor();
    await screenshot(page, 'renewals-03-term');
    await e3Row(10).getByRole('combobox').selectOption('');
    await e3Row(10).locator('td', { hasText: '$276.00' }).waitFor();
  });
});
