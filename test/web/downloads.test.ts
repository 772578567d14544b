import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Locator, Page } from 'playwright-core';
import { DEMO_DOMAIN } from '../../src/local/simulator/demo';
import { openBrowser, screenshot, serveProductNames, startApp, type Browser, type RunningApp } from './app';

/**
 * "Download CSV" on every table of the page, against `npm start` with its demo tenant and a function key (the
 * key goes along as ?code=, since a link cannot send the header): each link points at its list with
 * format=csv and the browser saves the file the API names.
 */

jest.setTimeout(180_000);

const KEY = 'download-test-key-51c2';
const TODAY = new Date().toISOString().slice(0, 10);

let names: { url: string; close(): Promise<void> };
let app: RunningApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  names = await serveProductNames();
  app = await startApp({ LICENSE_SYNC_SKU_NAMES_URL: names.url, LICENSE_SYNC_FUNCTION_KEY: KEY });
  browser = await openBrowser();
  page = browser.page;
  page.setDefaultTimeout(30_000);
  await browser.context.addInitScript((key) => sessionStorage.setItem('m365-license-sync.functionKey', key), KEY);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await names?.close();
});

/** Clicks the link, checks where it points and the file the browser saved; returns the file's rows. */
async function download(link: Locator, href: string, file: string): Promise<Record<string, string>[]> {
  expect(await link.getAttribute('href')).toBe(href);
  const [saved] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(saved.suggestedFilename()).toBe(`${file}-${TODAY}.csv`);
  expect(saved.url()).toBe(`${app.url}${href}&code=${KEY}`);
  const bytes = await readFile(await saved.path());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const rows: unknown = parse(bytes.toString('utf8'), { bom: true, columns: true });
  return rows as Record<string, string>[];
}

/** Waits for the demo portal's first run to succeed (it is queued when the app starts). */
async function demoSynced(): Promise<void> {
  for (;;) {
    const res = await fetch(`${app.url}/api/portals`, { headers: { 'x-functions-key': KEY } });
    const { items } = (await res.json()) as { items: { lastRun?: { status: string } }[] };
    if (items[0]?.lastRun?.status === 'succeeded') return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('Download CSV', () => {
  let portalId: string;
  let licenseId: string;

  it('on the portal accesses, once the demo portal has synced', async () => {
    await demoSynced();
    await page.goto(app.url);
    await page.locator('#portal-table').waitFor();
    const rows = await download(
      page.getByRole('link', { name: 'Download portal accesses as CSV' }),
      '/api/portals?format=csv',
      'portals',
    );
    // The demo has two portals: Contoso (a client secret) and Fabrikam (secretless); the file lists both.
    expect(rows.map((row) => row.name)).toEqual([
      'Demo - Contoso (simulated)',
      'Demo - Fabrikam (simulated, secretless)',
    ]);
    const contoso = rows[0]!;
    portalId = contoso.id!;
    expect(contoso['lastRun.status']).toBe('succeeded');
    await screenshot(page, '20-download-portals');
  });

  it('on the run history of a portal access', async () => {
    await page.goto(`${app.url}/#/portals/${portalId}`);
    const rows = await download(
      page.getByRole('link', { name: 'Download run history as CSV' }),
      `/api/portals/${portalId}/runs?format=csv`,
      'runs',
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.portalId === portalId)).toBe(true);
  });

  it('on the licenses, with the portal filter of the page', async () => {
    await page.goto(`${app.url}/#/licenses?portal=${portalId}`);
    await page.locator('#license-table').waitFor();
    const rows = await download(
      page.getByRole('link', { name: 'Download licenses as CSV' }),
      `/api/licenses?portalId=${portalId}&format=csv`,
      'licenses',
    );
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.every((row) => row.portalId === portalId)).toBe(true);
    licenseId = rows.find((row) => row.skuPartNumber === 'ENTERPRISEPACK')!.id!;
    await screenshot(page, '21-download-licenses');
  });

  it("on a license's consumers, each with its contact", async () => {
    await page.goto(`${app.url}/#/licenses/${encodeURIComponent(licenseId)}`);
    await page.locator('#consumer-table').waitFor();
    const rows = await download(
      page.getByRole('link', { name: 'Download consumers as CSV' }),
      `/api/licenses/${encodeURIComponent(licenseId)}/consumers?format=csv`,
      'consumers',
    );
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.every((row) => row.licenseId === licenseId && row['contact.email']!.includes('@'))).toBe(true);
    expect(rows.map((row) => row['contact.displayName'])).toContain('Adele Vance');
  });

  it('on a contact found by address', async () => {
    const email = `adelev@${DEMO_DOMAIN}`;
    await page.goto(`${app.url}/#/contacts?email=${encodeURIComponent(email)}`);
    await page.getByRole('heading', { name: 'Adele Vance' }).waitFor();
    const rows = await download(
      page.getByRole('link', { name: 'Download contacts as CSV' }),
      `/api/contacts?email=${encodeURIComponent(email)}&format=csv`,
      'contacts',
    );
    expect(rows.map((row) => row.displayName)).toEqual(['Adele Vance']);
  });

  it('on the audit trail, the whole trail and not only the entries the page loaded', async () => {
    const created = await fetch(`${app.url}/api/contacts`, {
      method: 'POST',
      headers: { 'x-functions-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ email: `audited@${DEMO_DOMAIN}`, displayName: 'Audited' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await page.goto(`${app.url}/#/audit`);
    await page.locator('#audit-table').waitFor();
    const rows = await download(
      page.getByRole('link', { name: 'Download the audit trail as CSV' }),
      '/api/audit?format=csv',
      'audit',
    );
    expect(rows[0]).toMatchObject({
      action: 'contact.create',
      target: `contacts/${id}`,
      'principal.name': 'function key',
    });
    expect(browser.errors).toEqual([]);
  });
});
