import { alertRuleSchema } from '../../src/domain/alertRules';
import { channelKindSchema } from '../../src/domain/alerts';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  authKindSchema,
  cloudSchema,
  licenseRecordSchema,
  runStatusSchema,
  runTriggerSchema,
} from '../../src/domain/records';
import { registeredFunctions, type HttpDefinition } from '../../src/host/registry';
import { compileRoute, RouteTable } from '../../src/local/routes';
import { contentTypeOf, findWebRoot, resolveStaticPath, serveStatic } from '../../src/web/static';
import '../../functions/web';

let root: string;
let outside: string;

beforeAll(async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'web-static-'));
  root = path.join(base, 'web');
  outside = path.join(base, 'secret.txt');
  await mkdir(path.join(root, 'js'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>page</title>');
  await writeFile(path.join(root, 'js', 'app.js'), 'export {};');
  await writeFile(path.join(root, 'styles.css'), 'body{}');
  await writeFile(path.join(root, '.env'), 'SECRET=1');
  await writeFile(path.join(root, 'notes.md'), '# notes');
  await writeFile(outside, 'top secret');
  await symlink(outside, path.join(root, 'leak.txt'));
});

afterAll(async () => {
  await rm(path.dirname(root), { recursive: true, force: true });
});

/** The arrays of the generated module: `export const NAME = Object.freeze([...]);` per line. */
function parseEnumsModule(source: string): Record<string, unknown> {
  const lines = [...source.matchAll(/^export const (\w+) = Object\.freeze\((.*)\);$/gm)];
  return Object.fromEntries(lines.map(([, name, json]) => [name, JSON.parse(json as string)]));
}

describe('static files of the admin page', () => {
  it("serves index.html for the site root, with the page's security headers", async () => {
    for (const request of ['', '/']) {
      const response = await serveStatic(root, { path: request });
      expect(response.status).toBe(200);
      expect(response.headers['Content-Type']).toBe('text/html; charset=utf-8');
      expect(String(response.body)).toContain('<title>page</title>');
      expect(response.headers['Content-Security-Policy']).toContain("script-src 'self'");
      expect(response.headers['X-Content-Type-Options']).toBe('nosniff');
    }
  });

  it('serves scripts and styles with their content types', async () => {
    const script = await serveStatic(root, { path: 'js/app.js' });
    expect(script.status).toBe(200);
    expect(script.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    const styles = await serveStatic(root, { path: 'styles.css' });
    expect(styles.headers['Content-Type']).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('chart.svg')).toBe('image/svg+xml');
  });

  it('lets browsers revalidate: an ETag, no-cache, and 304 when unchanged', async () => {
    const first = await serveStatic(root, { path: 'styles.css' });
    expect(first.headers['Cache-Control']).toBe('no-cache');
    const etag = first.headers.ETag as string;
    expect(etag).toMatch(/^".+"$/);
    const again = await serveStatic(root, { path: 'styles.css', ifNoneMatch: etag });
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
    const changed = await serveStatic(root, { path: 'styles.css', ifNoneMatch: '"other"' });
    expect(changed.status).toBe(200);
  });

  it.each([
    '../secret.txt',
    '..%2Fsecret.txt',
    '%2e%2e/secret.txt',
    '%252e%252e%252fsecret.txt',
    'js/../../secret.txt',
    'js/%2e%2e/%2e%2e/secret.txt',
    '..\\secret.txt',
    '/etc/passwd',
    '//etc/passwd',
    'index.html%00.txt',
    '.env',
    'js/.hidden.js',
    'notes.md',
    'missing.js',
    'js',
    '%E0%A4%A',
  ])('refuses %s with a 404 and never reads outside the folder', async (request) => {
    const response = await serveStatic(root, { path: request });
    expect(response.status).toBe(404);
    expect(String(response.body ?? '')).not.toContain('top secret');
  });

  it('does not follow a symbolic link out of the folder', async () => {
    expect(resolveStaticPath(root, 'leak.txt')).toBe(path.join(root, 'leak.txt'));
    const response = await serveStatic(root, { path: 'leak.txt' });
    expect(response.status).toBe(404);
  });

  it('answers unknown /api paths like the API does, not with the page', async () => {
    const response = await serveStatic(root, { path: 'api/nope' });
    expect(response.status).toBe(404);
    expect(response.headers['Content-Type']).toContain('application/json');
    expect(JSON.parse(String(response.body)).error.code).toBe('route_not_found');
  });

  it("serves /js/enums.js built from the domain's enums, with an ETag, over any file of that name", async () => {
    await writeFile(path.join(root, 'js', 'enums.js'), 'export const CLOUDS = ["stale"];');
    const response = await serveStatic(root, { path: 'js/enums.js' });
    expect(response.status).toBe(200);
    expect(response.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(parseEnumsModule(String(response.body))).toEqual({
      CLOUDS: cloudSchema.options,
      AUTH_KINDS: authKindSchema.options,
      RUN_TRIGGERS: runTriggerSchema.options,
      RUN_STATUSES: runStatusSchema.options,
      LICENSE_STATUSES: licenseRecordSchema.shape.status.options,
      ALERT_RULES: alertRuleSchema.options,
      SEVERITIES: ['critical', 'warning', 'info'],
      CHANNEL_KINDS: channelKindSchema.options,
    });
    const again = await serveStatic(root, { path: '/js/enums.js', ifNoneMatch: response.headers.ETag });
    expect(again.status).toBe(304);
  });

  it('declares to the type check exactly the names /js/enums.js exports', async () => {
    const served = parseEnumsModule(String((await serveStatic(root, { path: 'js/enums.js' })).body));
    const declarations = readFileSync(path.resolve(__dirname, '../../web/js/enums.d.ts'), 'utf8');
    const declared = [...declarations.matchAll(/^export declare const (\w+)/gm)].map((match) => match[1]);
    expect(declared.sort()).toEqual(Object.keys(served).sort());
  });

  it('finds the web folder at the app root from the compiled or the source folder', () => {
    const appRoot = path.resolve(__dirname, '../..');
    expect(findWebRoot(path.join(appRoot, 'dist', 'functions'))).toBe(path.join(appRoot, 'web'));
    expect(findWebRoot(path.join(appRoot, 'functions'))).toBe(path.join(appRoot, 'web'));
  });
});

describe('the web function', () => {
  const web = registeredFunctions().find((def): def is HttpDefinition => def.kind === 'http' && def.name === 'web');

  async function get(pathname: string): Promise<HttpResponseInit> {
    const table = new RouteTable<HttpDefinition>();
    table.add(web!.route, web!);
    const match = table.match(pathname);
    const request = new HttpRequest({ method: 'GET', url: `http://localhost${pathname}`, params: match?.params ?? {} });
    return await web!.handler(request, new InvocationContext());
  }

  it('is an anonymous GET catch-all, less specific than any API route', () => {
    expect(web).toBeDefined();
    expect(web!.authLevel).toBe('anonymous');
    expect(web!.methods).toEqual(expect.arrayContaining(['GET']));
    const table = new RouteTable<string>();
    table.add(web!.route, 'web');
    table.add('api/portals/{id}', 'portal');
    table.add('api/portals', 'portals');
    expect(table.match('/api/portals')?.target).toBe('portals');
    expect(table.match('/api/portals/p1')?.target).toBe('portal');
    expect(table.match('/')?.target).toBe('web');
    expect(compileRoute(web!.route, 'web').segments[0]?.kind).toBe('catchall');
  });

  it('serves the real page: index.html at the root and its modules', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(Buffer.from(page.body as Uint8Array).toString('utf8')).toContain('<script type="module" src="app.js">');
    const app = await get('/app.js');
    expect(app.status).toBe(200);
    expect((app.headers as Record<string, string>)['Content-Type']).toContain('javascript');
    const enums = await get('/js/enums.js');
    expect(enums.status).toBe(200);
    expect(Object.keys(parseEnumsModule((enums.body as Buffer).toString()))).toContain('CLOUDS');
  });

  it("refuses to serve the app's own files from outside web/", async () => {
    for (const pathname of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fhost.json',
      '/%2e%2e%2flocal.settings.json',
    ]) {
      const response = await get(pathname);
      expect(response.status).toBe(404);
    }
  });
});
