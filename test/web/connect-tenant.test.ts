import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { addOperator, startSimulator, type SimTenant, type Simulator } from '../../src/local/simulator';
import { testTls } from '../support/env';
import { openBrowser, screenshot, startApp, unlabelledControls, type Browser, type RunningApp } from './app';

/**
 * "Connect a tenant" in Chromium: the app started as `npm start` starts it, configured for secretless tenants
 * against a simulator this test controls (managed identity endpoint, multi-tenant app, consent page).
 */

jest.setTimeout(120_000);

let simulator: Simulator;
let customer: SimTenant;
let app: RunningApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  simulator = await startSimulator(testTls());
  const operator = addOperator(simulator);
  customer = simulator.addTenant({
    displayName: 'Northwind',
    plans: [{ skuPartNumber: 'SPB', subscriptions: [{ units: 5 }] }],
    users: [{ displayName: 'Nancy Davolio', userPrincipalName: 'nancy@northwind.example', licenses: [{ sku: 'SPB' }] }],
  });
  app = await startApp({
    LICENSE_SYNC_DEMO: 'off',
    LICENSE_SYNC_AUTHORITY_HOST: simulator.authorityHost,
    LICENSE_SYNC_GRAPH_ENDPOINT: simulator.graphEndpoint,
    LICENSE_SYNC_SKU_NAMES_URL: `${simulator.url}/product-names.csv`,
    LICENSE_SYNC_LOCAL_POLL_INTERVAL: '0.2',
    ...operator.env(),
  });
  operator.setApp({ redirectUris: [`${app.url}/api/consent/callback`] });
  browser = await openBrowser({ ignoreHTTPSErrors: true });
  page = browser.page;
  page.setDefaultTimeout(20_000);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await simulator?.close();
});

describe('connecting a tenant on the page', () => {
  it("opens Microsoft's consent page and, once the admin accepts, shows the new federated portal access", async () => {
    await page.goto(`${app.url}/#/portals`);
    await page.getByRole('button', { name: 'Connect a tenant' }).click();
    const form = page.locator('#connect-form');
    await form.getByLabel('Name').fill('Northwind');
    await form.getByLabel('Cloud').selectOption('global');
    expect(await unlabelledControls(page)).toEqual([]);
    simulator.answerConsent({ tenantId: customer.tenantId });
    await form.getByRole('button', { name: 'Open the consent page' }).click();

    await page.waitForURL(/\/#\/portals\/[A-Za-z0-9_-]+$/);
    await page.getByRole('heading', { name: /Northwind/ }).waitFor();
    await page.getByText('Federated (no secret)').first().waitFor();
    // Its first run syncs the tenant.
    await page
      .getByText(/Succeeded/)
      .first()
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'connect-tenant-portal');
    expect(browser.errors).toEqual([]);
  });

  it("shows Microsoft's reason on a readable page when the admin refuses", async () => {
    await page.goto(`${app.url}/#/portals`);
    await page.getByRole('button', { name: 'Connect a tenant' }).click();
    await page.locator('#connect-form').getByLabel('Name').fill('Refused tenant');
    simulator.answerConsent({
      error: 'access_denied',
      errorDescription: 'AADSTS65004: User declined to consent to access the app.',
    });
    await page.locator('#connect-form').getByRole('button', { name: 'Open the consent page' }).click();
    await page.getByRole('heading', { name: 'The tenant was not connected' }).waitFor();
    await page.getByText(/User declined to consent/).waitFor();
    await screenshot(page, 'connect-tenant-refused');
  });

  it('offers the federated kind in the portal form, without a client id', async () => {
    await page.goto(`${app.url}/#/portals`);
    await page.getByRole('link', { name: 'Add portal access' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Add portal access' }).waitFor();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Northwind by hand');
    await page.getByRole('textbox', { name: 'Tenant', exact: true }).fill(customer.tenantId);
    await page.getByLabel(/Federated \(no secret\)/).check();
    expect(await page.getByRole('textbox', { name: 'Client secret', exact: true }).isVisible()).toBe(false);
    // The tenant consented in the first test: the sign-in with the managed identity works.
    await page.getByRole('button', { name: 'Save and verify' }).click();
    await page.getByText('Verified "Northwind by hand"').waitFor();
    const list = await (await fetch(`${app.url}/api/portals`)).json();
    const made = list.items.find((p: { name: string }) => p.name === 'Northwind by hand');
    expect(made).toMatchObject({ authKind: 'federated', hasSecret: false, active: true });
  });

  it('shows when a credential expires, in red within 30 days', async () => {
    const soon = new Date(Date.now() + 10 * 86_400_000).toISOString();
    const later = new Date(Date.now() + 90 * 86_400_000).toISOString();
    for (const [name, expiresAt] of [
      ['Expiring soon', soon],
      ['Expiring later', later],
    ]) {
      const res = await fetch(`${app.url}/api/portals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          tenantId: customer.tenantId,
          clientId: randomUUID(),
          auth: { kind: 'clientSecret', clientSecret: 'not-a-real-secret', expiresAt },
        }),
      });
      expect(res.status).toBe(201);
    }
    await page.goto(`${app.url}/#/portals`);
    const soonCell = page.getByRole('row', { name: /Expiring soon/ }).locator('.credential-expiry');
    const laterCell = page.getByRole('row', { name: /Expiring later/ }).locator('.credential-expiry');
    await soonCell.waitFor();
    expect(await soonCell.textContent()).toContain(soon.slice(0, 10));
    expect(await soonCell.getAttribute('class')).toContain('error-text');
    expect(await laterCell.getAttribute('class')).not.toContain('error-text');
    await screenshot(page, 'portal-list-credential-expiry');
  });
});
