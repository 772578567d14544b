import type { Page } from 'playwright-core';
import { openBrowser, screenshot, startApp, unlabelledControls, type Browser, type RunningApp } from './app';

/** In Azure the API routes need a function key; the page asks for it when the API answers 401. */

jest.setTimeout(120_000);

const KEY = 'test-function-key-7f3a';

let app: RunningApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  app = await startApp({ LICENSE_SYNC_DEMO: 'off', LICENSE_SYNC_FUNCTION_KEY: KEY });
  browser = await openBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('the function key', () => {
  it('is served without a key, then asks for one in a labelled field when the API needs it', async () => {
    await page.goto(app.url);
    const dialog = page.getByRole('dialog', { name: 'Function key needed' });
    await dialog.waitFor();
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await page.getByLabel('Function key', { exact: true }).getAttribute('type')).toBe('password');
    await screenshot(page, '13-function-key');
  });

  it('says so when the key is wrong, and asks again', async () => {
    await page.getByLabel('Function key', { exact: true }).fill('wrong-key');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByText('That key was not accepted').waitFor();
    expect(await page.getByRole('dialog', { name: 'Function key needed' }).isVisible()).toBe(true);
  });

  it('loads the page with the right key and keeps it for the rest of the session', async () => {
    await page.getByLabel('Function key', { exact: true }).fill(KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'No portal accesses yet' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'No portal accesses yet' }).waitFor();
    expect(await page.getByRole('dialog', { name: 'Function key needed' }).isVisible()).toBe(false);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(KEY);
    expect(browser.errors).toEqual([]);
  });

  it("shows the API's own error when the key is refused (cancelled dialog)", async () => {
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByRole('dialog', { name: 'Function key needed' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alert').filter({ hasText: 'The API needs a function key' }).waitFor();
  });
});
