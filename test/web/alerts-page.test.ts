import type { Page } from 'playwright-core';
import { addDemoTenant, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from '../../src/local/simulator/demo';
import { startSimulator, type Simulator } from '../../src/local/simulator/server';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhookReceiver';
import { testTls } from '../support/env';
import { openBrowser, screenshot, startApp, unlabelledControls, type Browser, type RunningApp } from './app';

/**
 * The Alerts view in Chromium against the app as `npm start` runs it, syncing the demo tenant (served by a
 * simulator of this test, so the app trusts the same certificate as the HTTPS receiver): the demo's low-stock
 * plans raise alerts right after the first run; the admin adds a webhook channel, sends a test to an HTTPS receiver, and excludes a
 * plan, which resolves its alert.
 */

jest.setTimeout(120_000);

let app: RunningApp;
let browser: Browser;
let page: Page;
let receiver: WebhookReceiver;
let simulator: Simulator;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startSimulator(testTls());
  addDemoTenant(simulator);
  app = await startApp({
    LICENSE_SYNC_DEMO: 'off',
    LICENSE_SYNC_AUTHORITY_HOST: simulator.authorityHost,
    LICENSE_SYNC_GRAPH_ENDPOINT: simulator.graphEndpoint,
    LICENSE_SYNC_ALLOW_PRIVATE_WEBHOOKS: 'true',
    LICENSE_SYNC_LOCAL_POLL_INTERVAL: '0.2',
  });
  const created = await fetch(`${app.url}/api/portals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Contoso',
      tenantId: DEMO_TENANT_ID,
      clientId: DEMO_CLIENT_ID,
      cloud: 'global',
      auth: { kind: 'clientSecret', clientSecret: DEMO_CLIENT_SECRET },
    }),
  });
  const portal = (await created.json()) as { id: string };
  expect(created.status).toBe(201);
  expect((await fetch(`${app.url}/api/portals/${portal.id}/sync`, { method: 'POST' })).status).toBe(202);
  browser = await openBrowser();
  page = browser.page;
  page.setDefaultTimeout(20_000);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await receiver?.close();
  await simulator?.close();
});

describe('the Alerts view', () => {
  test('shows the open alerts of the demo tenant by severity, and their count in the header', async () => {
    await page.goto(`${app.url}/#/alerts`);
    // The demo's first run raises them within seconds; the view is reloaded until they are there.
    for (let i = 0; i < 40 && (await page.locator('[aria-label="Open alerts"] tbody tr').count()) === 0; i += 1) {
      await page.waitForTimeout(500);
      await page.goto(`${app.url}/#/portals`);
      await page.goto(`${app.url}/#/alerts`);
      await page.waitForSelector('h1');
    }
    const rows = page.locator('[aria-label="Open alerts"] tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(2);
    await expect(page.locator('[aria-label="Open alerts"]').innerText()).resolves.toContain('Low stock');
    const badge = page.locator('#alerts-badge');
    await expect(badge.innerText()).resolves.toBe(String(await rows.count()));
    const severities = await rows.locator('td:first-child').allInnerTexts();
    const rank = (s: string) => ['Critical', 'Warning', 'Info'].indexOf(s.trim());
    expect(severities.map(rank)).toEqual([...severities.map(rank)].sort((a, b) => a - b));
    // The exclusions are picked from the real portals and plans; the stale rule has its hours.
    const pickers = page.locator('form[aria-label="Alert rules"] .exclusions select');
    expect(await pickers.nth(0).locator('option').allInnerTexts()).toEqual(['Contoso']);
    expect(await pickers.nth(1).locator('option').allInnerTexts()).toContain('Microsoft 365 Business Premium');
    expect(await page.inputValue('#rule-stale-hours')).toBe('24');
    expect(await unlabelledControls(page)).toEqual([]);
    await screenshot(page, 'alerts-01-open');
  });

  test('adds a webhook channel and sends a test that the receiver gets', async () => {
    await page.selectOption('#channel-kind', 'webhook');
    await page.fill('#channel-name', 'Ops webhook');
    await page.fill('#channel-target', `${receiver.url}/hook`);
    await page.fill('#channel-secret', 'a-signing-secret-of-some-length');
    await page.click('text=Add channel');
    const channel = page.locator('.channel', { hasText: 'Ops webhook' });
    await channel.waitFor();
    await channel.locator('text=Send test').click();
    await page.locator('text=The test was delivered.').waitFor();
    expect(JSON.parse(receiver.received.at(-1)!.body)).toMatchObject({ event: 'test' });
    expect(await page.content()).not.toContain('a-signing-secret-of-some-length');
    await screenshot(page, 'alerts-02-channel-tested');
  });

  test('a delivery that failed shows on its channel with the reason', async () => {
    receiver.script({ status: 500 });
    const channel = () => page.locator('.channel', { hasText: 'Ops webhook' });
    await channel().locator('text=Send test').click();
    await channel().getByText('The test was not delivered').waitFor();
    await page.reload();
    await channel().getByText('Last delivery failed').waitFor();
    expect(await channel().innerText()).toContain('The receiver answered 500.');
    await screenshot(page, 'alerts-02b-channel-failed');
  });

  test('excluding a plan resolves its alert, which then shows among the resolved ones', async () => {
    // Business Premium also renews soon (an "expiring" alert): this counts its low-stock one.
    const lowStock = page
      .locator('[aria-label="Open alerts"] tbody tr', { hasText: 'Business Premium' })
      .filter({ hasText: 'Low stock' });
    expect(await lowStock.count()).toBe(1);
    const plans = page
      .locator('select')
      .filter({ has: page.locator('option', { hasText: 'Microsoft 365 Business Premium' }) });
    await plans.first().selectOption({ label: 'Microsoft 365 Business Premium' });
    await page.click('text=Save rules');
    await page.locator('text=Rules saved.').waitFor();
    await page.waitForFunction(
      () => !document.querySelector('[aria-label="Open alerts"]')?.textContent?.includes('Business Premium'),
    );
    await expect(page.locator('[aria-label="Resolved alerts"]').innerText()).resolves.toContain('Business Premium');
    await screenshot(page, 'alerts-03-excluded');
  });
});
