import type { Page } from 'playwright-core';
import { ERROR_CODES } from '../../src/domain/errors';
import { addDemoTenant, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from '../../src/local/simulator/demo';
import { startSimulator, type Simulator } from '../../src/local/simulator/server';
import type { SimTenant } from '../../src/local/simulator/tenant';
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
 * The admin page in Chromium against the app started as `npm start` starts it, signing in to a simulated tenant
 * (the demo tenant's data, served by a simulator this test controls, so it can change the tenant between runs).
 * One admin's session, step by step: each test continues where the previous one left off.
 */

jest.setTimeout(120_000);

const SCHEDULE_SECONDS = 3;
const PORTAL = 'Contoso';

let simulator: Simulator;
let tenant: SimTenant;
let names: { url: string; close(): Promise<void> };
let app: RunningApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const tls = testTls();
  simulator = await startSimulator(tls);
  tenant = addDemoTenant(simulator);
  // Two seats fewer than people hold E3: the page must show the over-assignment.
  tenant.updatePlan('ENTERPRISEPACK', { subscriptions: [{ units: 10 }] });
  names = await serveProductNames();
  app = await startApp({
    LICENSE_SYNC_DEMO: 'off',
    LICENSE_SYNC_AUTHORITY_HOST: simulator.authorityHost,
    LICENSE_SYNC_GRAPH_ENDPOINT: simulator.graphEndpoint,
    LICENSE_SYNC_SKU_NAMES_URL: names.url,
    LICENSE_SYNC_SCHEDULE: `*/${SCHEDULE_SECONDS} * * * * *`,
    LICENSE_SYNC_LOCAL_POLL_INTERVAL: '0.2',
  });
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

function row(text: string) {
  return page.locator('tbody tr').filter({ hasText: text });
}

async function openPortal(): Promise<void> {
  await page.goto(`${app.url}/#/portals`);
  await page.getByRole('link', { name: PORTAL, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: PORTAL }).waitFor();
}

/** The run rows the portal's page shows: trigger and status as the admin reads them, and when. */
async function runRows(): Promise<{ trigger: string; status: string; queuedAt: string }[]> {
  return page.locator('#run-table tbody tr').evaluateAll((rows) =>
    rows.map((tr) => ({
      trigger: tr.querySelector('td:nth-child(2)')?.textContent ?? '',
      status: tr.querySelector('td:nth-child(3)')?.textContent ?? '',
      queuedAt: (tr as HTMLElement).dataset.queuedAt ?? '',
    })),
  );
}

describe('the admin page', () => {
  it('is served by the app at / and offers to add the first portal access', async () => {
    await page.goto(app.url);
    await page.getByRole('heading', { level: 1, name: 'Portal accesses' }).waitFor();
    await page.getByRole('heading', { name: 'No portal accesses yet' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual([
      'Portal accesses',
      'Licenses',
      'Contacts',
      'Alerts',
      'Waste',
      'Renewals',
      'Licensed users',
      'Prices',
      'Audit',
    ]);
    await screenshot(page, '01-portals-empty');
  });

  it.each(['/#/%22%5D', '/#/%E0%A4%A', '/#/portals/%E0%A4%A', '/#/nowhere'])(
    'shows "Page not found" for %s, an address that names no page, and works on from there',
    async (address) => {
      await page.goto(`${app.url}${address}`);
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      expect(await page.title()).toBe('Not found – M365 License Sync');
      await screenshot(page, '01b-not-found');
      await page.getByRole('link', { name: 'Go to the portal accesses' }).click();
      await page.getByRole('heading', { level: 1, name: 'Portal accesses' }).waitFor();
    },
  );

  it('shows the mapped sign-in error for a wrong client secret and keeps the portal access inactive', async () => {
    await page.getByRole('link', { name: 'Add portal access' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Add portal access' }).waitFor();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill(PORTAL);
    await page.getByRole('textbox', { name: 'Tenant', exact: true }).fill(DEMO_TENANT_ID);
    await page.getByRole('textbox', { name: 'Client ID (application ID)', exact: true }).fill(DEMO_CLIENT_ID);
    expect(await page.getByLabel('Cloud').inputValue()).toBe('global');
    expect(await page.getByLabel('Client secret', { exact: true }).getAttribute('type')).toBe('password');
    await page.getByLabel('Client secret', { exact: true }).fill('not-the-secret');
    // Scheduled runs come later in this session; until then only "Sync now" runs it.
    await page.getByLabel('Automatic sync').uncheck();
    await page.getByRole('button', { name: 'Save and verify' }).click();

    const error = page.getByRole('alert').filter({ hasText: 'Saved, but the sign-in did not work' });
    await error.waitFor();
    expect(await error.textContent()).toContain(ERROR_CODES.invalid_client_secret);
    await page.getByText('is saved and stays inactive, so nothing is synced').waitFor();
    // The secret is not shown back.
    expect(await page.getByLabel('Client secret', { exact: true }).inputValue()).toBe('');
    await screenshot(page, '02-add-portal-wrong-secret');

    // Another tab shows it saved, and inactive.
    const other = await browser.context.newPage();
    await other.goto(`${app.url}/#/portals`);
    const contoso = other.locator('tbody tr').filter({ hasText: PORTAL });
    await contoso.waitFor();
    expect(await contoso.getByRole('switch', { name: `Active: ${PORTAL}` }).isChecked()).toBe(false);
    expect(await contoso.textContent()).toContain('Inactive');
    await other.close();
  });

  it('verifies the corrected secret, then activates the portal access', async () => {
    await page.getByRole('heading', { level: 1, name: `Edit portal access: ${PORTAL}` }).waitFor();
    await page.getByLabel('Client secret', { exact: true }).fill(DEMO_CLIENT_SECRET);
    await page.getByRole('button', { name: 'Save and verify' }).click();
    await page.getByRole('heading', { level: 1, name: PORTAL }).waitFor();
    const verified = page.getByRole('status').filter({ hasText: `Verified "${PORTAL}"` });
    await verified.waitFor();
    expect(await verified.textContent()).toContain('read 5 plans');
    expect(await page.getByRole('switch', { name: 'Active' }).isChecked()).toBe(true);
    expect(await page.getByRole('switch', { name: 'Automatic sync' }).isChecked()).toBe(false);
    await page.getByText('Automatic sync is off: scheduled runs skip this portal access.').waitFor();
    await screenshot(page, '03-portal-verified');
  });

  it('syncs now, shows the run in progress and then its counts in the run history', async () => {
    // Graph throttles twice (Retry-After 1 s): the run takes long enough to watch it go.
    tenant.fail({ kind: 'throttle', retryAfter: 1 }, { resource: 'users', times: 2 });
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('heading', { name: /Sync (queued|in progress)/ }).waitFor();
    await screenshot(page, '04-sync-in-progress');

    const succeeded = page.locator('#run-table tbody tr').filter({ hasText: 'Succeeded' });
    await succeeded.first().waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: /Sync (queued|in progress)/ }).waitFor({ state: 'detached' });
    const text = await succeeded.first().textContent();
    expect(text).toContain('Sync now');
    expect(text).toContain('5 plans');
    expect(text).toContain('25 users');
    expect(text).toContain('5 licenses created');
    await screenshot(page, '05-sync-done');
  });

  it("lists the portal's licenses with counts and a chart, over-assigned ones highlighted", async () => {
    await page.getByRole('link', { name: 'Licenses', exact: true }).last().click();
    await page.getByRole('heading', { level: 1, name: 'Licenses' }).waitFor();
    await page.locator('#license-table').waitFor();
    expect(await page.locator('#license-table tbody tr').count()).toBe(5);

    const e3 = row(`${PORTAL} - Office 365 E3`);
    expect(await e3.getAttribute('class')).toContain('row-over');
    expect(await e3.textContent()).toContain('Over-assigned');
    const cells = await e3.locator('td.num').allTextContents();
    // available, consumed, assigned, warning, suspended
    expect(cells).toEqual(['10', '12', '12', '0', '0']);
    expect(await row(`${PORTAL} - Power BI Pro`).textContent()).toContain('OK');
    await page.getByText('1 license is over-assigned').waitFor();

    const chart = page.getByRole('img', { name: /Available vs assigned per plan/ });
    expect(await chart.getAttribute('aria-labelledby')).toBeTruthy();
    expect(await page.locator('.chart .bar-row').count()).toBe(5);
    expect(await page.locator('.chart .bar-row.over .bar-label').textContent()).toBe('Office 365 E3');
    await screenshot(page, '06-licenses');
  });

  it("shows a license's consumers: how assigned, guest, disabled and who owns the link", async () => {
    await page.getByRole('link', { name: `${PORTAL} - Power BI Pro` }).click();
    await page.getByRole('heading', { level: 1, name: `${PORTAL} - Power BI Pro` }).waitFor();
    await page.locator('#consumer-table').waitFor();
    expect(await page.locator('#consumer-table tbody tr').count()).toBe(7);
    const guest = row('rosa.delgado');
    expect(await guest.textContent()).toContain('Guest');
    expect(await guest.textContent()).toContain(`Sync of ${PORTAL}`);
    expect(await row('adelev@').textContent()).toContain('Via a group');
    // The contact's own name next to the address.
    await row('Megan Bowen').waitFor();
    expect(await row('meganb@').textContent()).toContain('Direct');
    await screenshot(page, '07-license-consumers');

    await page.goto(`${app.url}/#/licenses`);
    await page.getByRole('link', { name: `${PORTAL} - Office 365 E3` }).click();
    await page.locator('#consumer-table').waitFor();
    expect(await row('benw@').textContent()).toContain('Disabled');
    expect(await row('alland@').textContent()).toContain('Direct and via a group');
  });

  it('finds a contact by any of its addresses, whatever the case', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
    await page.getByLabel('E-mail address').fill('M.BOWEN@contoso-simulated.onmicrosoft.com');
    await page.getByLabel('E-mail address').press('Enter');
    const card = page.getByRole('article', { name: 'Megan Bowen' });
    await card.waitFor();
    expect(await card.textContent()).toContain('meganb@contoso-simulated.onmicrosoft.com');
    expect(await card.textContent()).toContain(`Created by the sync of ${PORTAL}`);
    await screenshot(page, '08-contact-search');

    await page.getByLabel('E-mail address').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No contact holds the address').waitFor();
  });

  it('previews a change in the tenant in words, without writing it', async () => {
    tenant.addUser({
      displayName: 'Nora Newcomer',
      userPrincipalName: 'noran@contoso-simulated.onmicrosoft.com',
      licenses: [{ sku: 'STANDARDPACK' }],
    });
    tenant.removeLicense('jonis@contoso-simulated.onmicrosoft.com', 'STANDARDPACK');

    await openPortal();
    await page.getByRole('link', { name: 'Preview' }).click();
    await page.getByRole('heading', { level: 1, name: `Preview: ${PORTAL}` }).waitFor();
    await page.getByRole('heading', { name: 'Summary' }).waitFor();
    const created = page.locator('section').filter({ has: page.getByRole('heading', { name: /^Contacts to create/ }) });
    expect(await created.textContent()).toContain('Nora Newcomer');
    const added = page.locator('section').filter({ has: page.getByRole('heading', { name: /^Consumers to add/ }) });
    expect(await added.textContent()).toContain('noran@contoso-simulated.onmicrosoft.com');
    expect(await added.textContent()).toContain(`${PORTAL} - Office 365 E1`);
    const removed = page
      .locator('section')
      .filter({ has: page.getByRole('heading', { name: /^Consumers to remove/ }) });
    expect(await removed.textContent()).toContain('jonis@contoso-simulated.onmicrosoft.com');
    expect(await removed.textContent()).toContain('No longer holds this plan');
    await screenshot(page, '09-preview');

    // Nothing was written: the ledger does not know Nora yet.
    await page.goto(`${app.url}/#/contacts?email=noran@contoso-simulated.onmicrosoft.com`);
    await page.getByText('No contact holds the address').waitFor();
  });

  it('runs on the schedule once automatic sync is switched on', async () => {
    await openPortal();
    // Keyboard: the switch takes focus and toggles with Space.
    await page.getByRole('switch', { name: 'Automatic sync' }).focus();
    await page.keyboard.press('Space');
    await page.getByText(`Automatic sync of "${PORTAL}" is on.`).waitFor();
    await page
      .locator('#run-table tbody tr')
      .filter({ hasText: 'Scheduled' })
      .filter({ hasText: 'Succeeded' })
      .first()
      .waitFor({ timeout: 20_000 });
    await screenshot(page, '10-scheduled-runs');
  });

  it('skips a deactivated portal access at the next scheduled runs, keeping its data', async () => {
    await page.getByRole('switch', { name: 'Active' }).click();
    await page.getByText(`"${PORTAL}" is deactivated`).waitFor();
    await page.getByText('Deactivated: scheduled runs skip this portal access.').waitFor();
    await page.getByRole('button', { name: 'Sync now' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sync now' }).isDisabled()).toBe(true);
    const deactivatedAt = Date.now();
    // A run the timer queued just before may still finish; then at least two schedule ticks pass.
    await page.waitForTimeout((SCHEDULE_SECONDS * 2 + 2) * 1000);
    await page.reload();
    await page.locator('#run-table').waitFor();
    const later = (await runRows()).filter(
      (r) => r.trigger === 'Scheduled' && Date.parse(r.queuedAt) > deactivatedAt + 1000,
    );
    // The schedule did not run it: no run at all, or one marked skipped.
    expect(later.filter((r) => r.status !== 'Skipped')).toEqual([]);
    expect(await page.getByRole('switch', { name: 'Active' }).isChecked()).toBe(false);
    await screenshot(page, '11-deactivated');

    await page.goto(`${app.url}/#/licenses`);
    await page.locator('#license-table').waitFor();
    expect(await page.locator('#license-table tbody tr').count()).toBe(5);
  });

  it('deletes a portal access only after a confirmation', async () => {
    await page.goto(`${app.url}/#/portals`);
    await row(PORTAL)
      .getByRole('button', { name: `Delete: ${PORTAL}` })
      .click();
    const dialog = page.getByRole('dialog', { name: `Delete the portal access "${PORTAL}"?` });
    await dialog.waitFor();
    await screenshot(page, '12-delete-confirmation');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await row(PORTAL).count()).toBe(1);

    await row(PORTAL)
      .getByRole('button', { name: `Delete: ${PORTAL}` })
      .click();
    await dialog.getByRole('button', { name: 'Delete portal access' }).click();
    await page.getByRole('heading', { name: 'No portal accesses yet' }).waitFor();
  });
});
