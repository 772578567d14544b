import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort } from '../../src/local/azurite';
import { skuIdOf } from '../../src/local/simulator/ids';

/**
 * What the browser tests need: the app started as `npm start` starts it (a child process running
 * dist/src/local/start.js, its own in-memory Azurite), and Chromium from Debian driven by playwright-core.
 */

export const ROOT = path.resolve(__dirname, '../..');
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RunningApp {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node dist/src/local/start.js` with these settings on a free port; resolves once it listens. */
export async function startApp(env: Record<string, string>, timeoutMs = 60_000): Promise<RunningApp> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'license-sync-web-'));
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    LICENSE_SYNC_STORAGE: 'memory',
    LICENSE_SYNC_DATA_DIR: dataDir,
    ...env,
  };
  // Its own Azurite, as `npm start` does, not the test suite's.
  delete childEnv.AzureWebJobsStorage;
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'dist/src/local/start.js')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`The app did not start within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const check = () => {
      const match = /Listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The app exited with code ${code} before it listened:\n${output}`));
    });
  });

  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Errors the page logged or threw (a test asserts there are none). */
  errors: string[];
  close(): Promise<void>;
}

/** `ignoreHTTPSErrors`: for pages of the simulated Microsoft endpoints (their certificate is this machine's). */
export async function openBrowser(options: { ignoreHTTPSErrors?: boolean } = {}): Promise<Browser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'license-sync-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1366, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // Failed requests the page handles itself (401 before the key, 4xx it shows) are logged by Chromium too.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text()))
      errors.push(`console: ${message.text()}`);
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Controls without a label, on the page as it is now (input, select, textarea; hidden ones excluded). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('input, select, textarea'))
      .filter((el) => {
        const control = el as HTMLInputElement;
        if (control.type === 'hidden' || control.closest('[hidden]') || control.closest('dialog:not([open])'))
          return false;
        return (
          !control.labels?.length && !control.getAttribute('aria-label') && !control.getAttribute('aria-labelledby')
        );
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** Microsoft's product-names list (shared by the workspace) from a local server, so licenses get their names offline. */
export async function serveProductNames(): Promise<{ url: string; close(): Promise<void> }> {
  const shared = path.resolve(ROOT, '../shared/data/product-names-and-service-plan-identifiers.csv');
  // Without the shared copy, the few plans the tests use are enough.
  const csv = existsSync(shared)
    ? readFileSync(shared)
    : Buffer.from(
        [
          'Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names',
          ...[
            ['Office 365 E3', 'ENTERPRISEPACK'],
            ['Microsoft 365 Business Premium', 'SPB'],
            ['Office 365 E1', 'STANDARDPACK'],
            ['Power BI Pro', 'POWER_BI_PRO'],
            ['Visio Plan 2', 'VISIOCLIENT'],
          ].map(
            ([name, part]) => `${name},${part},${skuIdOf(part as string)},X,00000000-0000-0000-0000-000000000000,X`,
          ),
        ].join('\n'),
      );
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': csv.length }).end(csv);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/product-names.csv`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
