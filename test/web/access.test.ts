import type { Page } from 'playwright-core';
import { ADMIN_ROLE, encodeClientPrincipal, READER_ROLE } from '../../src/auth/principal';
import { openBrowser, screenshot, startApp, type Browser, type RunningApp } from './app';

/**
 * The page with LICENSE_SYNC_AUTH=easyauth: who is signed in, what a Reader is not offered, the audit view. The
 * principal is the local settable one (the request's own x-ms-client-principal), as App Service would set it.
 */

jest.setTimeout(120_000);

const principal = (name: string, roles: string[]) => ({
  'x-ms-client-principal': encodeClientPrincipal({ name, objectId: `oid-${name}`, roles }),
});
const ADA = principal('ada@contoso.example', [ADMIN_ROLE]);
const RITA = principal('rita@contoso.example', [READER_ROLE]);
const NOBODY = principal('nobody@contoso.example', []);

let app: RunningApp;
let browser: Browser;
let page: Page;

async function asAdmin(method: string, route: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${app.url}${route}`, {
    method,
    headers: { ...ADA, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

beforeAll(async () => {
  app = await startApp({ LICENSE_SYNC_DEMO: 'off', LICENSE_SYNC_AUTH: 'easyauth' });
  browser = await openBrowser();
  page = browser.page;
  await asAdmin('POST', '/api/portals', {
    name: 'Fabrikam',
    tenantId: 'fabrikam.onmicrosoft.com',
    clientId: '11111111-2222-3333-4444-555555555555',
    cloud: 'global',
    autoSync: false,
    auth: { kind: 'clientSecret', clientSecret: 'browser-test-secret' },
  });
  // More than one page of the audit view (50).
  for (let i = 0; i < 51; i += 1) {
    await asAdmin('POST', '/api/contacts', { email: `person${i}@fabrikam.example`, displayName: `Person ${i}` });
  }
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('signed in as a Reader', () => {
  beforeAll(async () => {
    await browser.context.setExtraHTTPHeaders(RITA);
    await page.goto(`${app.url}/#/portals`);
    await page.getByRole('link', { name: 'Fabrikam', exact: true }).waitFor();
  });

  it('shows who is signed in and offers no change', async () => {
    expect(await page.locator('#who').textContent()).toBe('rita@contoso.example (Reader)');
    for (const name of ['Add portal access', 'Sync now', 'Delete', 'Edit', 'Preview']) {
      expect(await page.getByRole('link', { name }).or(page.getByRole('button', { name })).count()).toBe(0);
    }
    for (const toggle of await page.getByRole('switch').all()) expect(await toggle.isDisabled()).toBe(true);
    await screenshot(page, '20-reader-portals');
  });

  it('offers no form to create a contact or link one', async () => {
    await page.goto(`${app.url}/#/contacts`);
    await page.getByRole('heading', { name: 'Contacts' }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Create contact' }).count()).toBe(0);
  });

  it('lists the audit trail newest first, and loads more', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    const rows = page.locator('#audit-table tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    expect(await rows.first().textContent()).toContain('Person 50');
    expect(await rows.first().textContent()).toContain('ada@contoso.example');
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.locator('#audit-table tbody tr').nth(51).waitFor();
    expect(await rows.count()).toBe(52);
    expect(await rows.last().textContent()).toContain('portal.create');
    expect(await page.content()).not.toContain('browser-test-secret');
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await screenshot(page, '21-audit');
    expect(browser.errors).toEqual([]);
  });
});

describe('signed in as an Admin', () => {
  it('offers the changes, and a sync started by hand shows in the audit trail', async () => {
    await browser.context.setExtraHTTPHeaders(ADA);
    // A fresh load: the page asks who is signed in once per load.
    await page.goto('about:blank');
    await page.goto(`${app.url}/#/portals`);
    await page.getByRole('link', { name: 'Add portal access' }).first().waitFor();
    expect(await page.locator('#who').textContent()).toBe('ada@contoso.example (Admin)');
    const [queued] = await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/sync') && res.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sync now' }).first().click(),
    ]);
    expect(queued.status()).toBe(202);
    await page.goto(`${app.url}/#/audit`);
    const first = page.locator('#audit-table tbody tr').first();
    await first.waitFor();
    expect(await first.textContent()).toContain('run.start');
  });
});

describe('signed in without a role', () => {
  it('says who is signed in and that a role is needed', async () => {
    await browser.context.setExtraHTTPHeaders(NOBODY);
    await page.goto('about:blank');
    await page.goto(`${app.url}/#/portals`);
    await page.getByRole('alert').filter({ hasText: 'LicenseSync.Reader' }).waitFor();
    expect(await page.locator('#who').textContent()).toBe('nobody@contoso.example (no role)');
  });
});
