import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { ADMIN_ROLE, encodeClientPrincipal, READER_ROLE } from '../../src/auth/principal';
import { startApp, tempDir, type RunningApp } from './app';

/**
 * `npm start` as an attacker on the same machine or a web page in the user's browser sees it: the settable
 * principal of LICENSE_SYNC_AUTH=easyauth, DNS rebinding, cross-site writes, and what lands in the log.
 */

jest.setTimeout(60_000);

const KEY = `local-key-${randomBytes(8).toString('hex')}`;
const ADMIN = { 'x-ms-client-principal': encodeClientPrincipal({ name: 'ada@contoso.example', roles: [ADMIN_ROLE] }) };
const READER = {
  'x-ms-client-principal': encodeClientPrincipal({ name: 'rita@contoso.example', roles: [READER_ROLE] }),
};
const apps: RunningApp[] = [];

async function start(env: Record<string, string>): Promise<RunningApp> {
  const prefix = `s${randomBytes(5).toString('hex')}`;
  const app = await startApp({
    AzureWebJobsStorage: process.env.AzureWebJobsStorage,
    LICENSE_SYNC_TABLE_PREFIX: prefix,
    LICENSE_SYNC_QUEUE_NAME: `${prefix}-runs`,
    LICENSE_SYNC_DEMO: 'off',
    LICENSE_SYNC_DATA_DIR: await tempDir('security-'),
    ...env,
  });
  apps.push(app);
  return app;
}

afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop()));
});

/** A raw request, so Host and the body's type are exactly what the test says. */
function raw(
  app: RunningApp,
  method: string,
  route: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(route, app.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const portal = JSON.stringify({
  name: 'Local security',
  tenantId: 'contoso.onmicrosoft.com',
  clientId: '11111111-2222-3333-4444-555555555555',
  cloud: 'global',
  auth: { kind: 'clientSecret', clientSecret: 'not-a-real-secret' },
});

describe('npm start with LICENSE_SYNC_AUTH=easyauth', () => {
  let app: RunningApp;
  let host: string;
  beforeAll(async () => {
    app = await start({ LICENSE_SYNC_AUTH: 'easyauth' });
    host = new URL(app.url).host;
  });

  it('takes the principal from the request: none 401, Reader reads but may not change, Admin changes', async () => {
    expect((await raw(app, 'GET', '/api/portals', { host })).status).toBe(401);
    expect((await raw(app, 'GET', '/api/portals', { host, ...READER })).status).toBe(200);
    const json = { host, 'content-type': 'application/json' };
    expect((await raw(app, 'POST', '/api/portals', { ...json, ...READER }, portal)).status).toBe(403);
    expect((await raw(app, 'POST', '/api/portals', { ...json, ...ADMIN }, portal)).status).toBe(201);
    const me = await raw(app, 'GET', '/api/me', { host, ...READER });
    expect(JSON.parse(me.text)).toEqual({ name: 'rita@contoso.example', roles: [READER_ROLE], authMode: 'easyauth' });
    expect(app.output()).toContain('Auth:       easyauth');
  });

  it('answers only to its own names in Host (DNS rebinding gets 421), with nosniff', async () => {
    const port = new URL(app.url).port;
    const rebound = await raw(app, 'GET', '/api/portals', { host: `evil.example:${port}`, ...ADMIN });
    expect(rebound.status).toBe(421);
    expect(rebound.headers['x-content-type-options']).toBe('nosniff');
    expect((await raw(app, 'GET', '/', { host: `attacker.localhost:${port}` })).status).toBe(421);
    expect((await raw(app, 'GET', '/api/portals', { host: `127.0.0.1:1${port}`, ...ADMIN })).status).toBe(421);
    const local = await raw(app, 'GET', '/api/portals', { host: `localhost:${port}`, ...ADMIN });
    expect(local.status).toBe(200);
    expect(local.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a cross-site write (403) and a body that is not JSON (415)', async () => {
    const json = { host, 'content-type': 'application/json', ...ADMIN };
    const crossSite = await raw(app, 'POST', '/api/portals', { ...json, origin: 'https://evil.example' }, portal);
    expect(crossSite.status).toBe(403);
    const sameSite = await raw(app, 'DELETE', '/api/portals/nope', { host, ...ADMIN, origin: app.url });
    expect(sameSite.status).toBe(404);
    const untyped = await raw(app, 'POST', '/api/portals', { host, ...ADMIN }, portal);
    expect(untyped.status).toBe(415);
    const form = await raw(app, 'POST', '/api/contacts', { host, ...ADMIN, 'content-type': 'text/plain' }, '{}');
    expect(form.status).toBe(415);
  });
});

describe('npm start with a function key', () => {
  it('keeps ?code= (the key) out of the log', async () => {
    const app = await start({ LICENSE_SYNC_FUNCTION_KEY: KEY });
    const host = new URL(app.url).host;
    expect((await raw(app, 'GET', `/api/portals?code=${KEY}x&other=1`, { host })).status).toBe(401);
    expect((await raw(app, 'DELETE', `/api/portals/nope?code=${KEY}`, { host })).status).toBe(404);
    await app.waitForOutput(/HTTP DELETE \/api\/portals\/nope 404/);
    expect(app.output()).toContain('HTTP GET /api/portals?other=1 401');
    expect(app.output()).not.toContain(KEY);
  });
});
