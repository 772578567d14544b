import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { enumsModule } from './enums';

/**
 * Serves the admin page's files (the `web/` folder at the app root) from the function app itself. The files are
 * not fingerprinted (no build step), so browsers revalidate them on every load with an ETag: cheap, and an
 * update is never hidden behind a stale cache. A few modules are generated from the server's own code instead
 * of read from web/ (GENERATED).
 */

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Only what the page itself needs: its own scripts, styles and API; no inline script, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface StaticResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export interface StaticRequest {
  /** The catch-all route parameter: the path below the site root, as the host hands it over. */
  path: string;
  method?: string;
  ifNoneMatch?: string | null;
}

/** The content type of a file the page may serve, or undefined for any other kind of file. */
export function contentTypeOf(filePath: string): string | undefined {
  return CONTENT_TYPES[path.extname(filePath).toLowerCase()];
}

/**
 * Turns the requested path into a file path inside `root`, or undefined when it is not a servable file: `..`
 * and `.` segments, hidden files, backslashes, NUL, bad escapes, and extensions not in CONTENT_TYPES are all
 * refused before the file system is asked anything.
 */
export function resolveStaticPath(root: string, requestPath: string): string | undefined {
  let decoded: string;
  try {
    // The host may hand over the path still percent-encoded; decoding twice is harmless for valid names and
    // makes `%2e%2e` and `%2f` impossible to smuggle past the segment check.
    decoded = decodeURIComponent(requestPath);
    if (/%[0-9a-f]{2}/i.test(decoded)) decoded = decodeURIComponent(decoded);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  let relative = decoded.replace(/^\/+/, '');
  if (relative === '' || relative.endsWith('/')) relative += 'index.html';
  const segments = relative.split('/');
  if (segments.some((segment) => segment === '' || segment.startsWith('.'))) return undefined;
  if (!contentTypeOf(relative)) return undefined;
  const base = path.resolve(root);
  const resolved = path.resolve(base, ...segments);
  if (!resolved.startsWith(base + path.sep)) return undefined;
  return resolved;
}

/** Paths under /api that no API function matched end up here: answer like the API does, not with a page. */
export function isApiPath(requestPath: string): boolean {
  return /^\/*api(\/|$)/i.test(requestPath);
}

interface ServedFile {
  body: Buffer;
  etag: string;
}

interface CachedFile extends ServedFile {
  mtimeMs: number;
  size: number;
}

const cache = new Map<string, CachedFile>();

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

function generated(source: string): ServedFile {
  const body = Buffer.from(source);
  return { body, etag: etagOf(body) };
}

/** Modules the app builds from its own schemas, by their path below web/; they win over a file of that name. */
const GENERATED: ReadonlyMap<string, ServedFile> = new Map([['js/enums.js', generated(enumsModule())]]);

/**
 * Files of maintained libraries the page uses, served from node_modules (no copies in web/): the path below web/
 * -> the package and its file.
 */
const VENDOR: ReadonlyMap<string, [pkg: string, file: string]> = new Map([
  ['vendor/uplot.esm.js', ['uplot', 'dist/uPlot.esm.js']],
  ['vendor/uplot.min.css', ['uplot', 'dist/uPlot.min.css']],
]);

function vendorFile(relative: string): string | undefined {
  const entry = VENDOR.get(relative);
  if (!entry) return undefined;
  try {
    return path.join(path.dirname(require.resolve(`${entry[0]}/package.json`)), entry[1]);
  } catch {
    return undefined;
  }
}

async function readCached(filePath: string): Promise<CachedFile | undefined> {
  let info;
  try {
    info = await stat(filePath);
  } catch {
    return undefined;
  }
  if (!info.isFile()) return undefined;
  const hit = cache.get(filePath);
  if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit;
  const body = await readFile(filePath);
  const file = { mtimeMs: info.mtimeMs, size: info.size, body, etag: etagOf(body) };
  cache.set(filePath, file);
  return file;
}

function baseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

function notFound(message: string): StaticResponse {
  return {
    status: 404,
    headers: { ...baseHeaders('text/plain; charset=utf-8'), 'Cache-Control': 'no-store' },
    body: message,
  };
}

function etagMatches(ifNoneMatch: string | null | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const value = tag.trim().replace(/^W\//, '');
    return value === '*' || value === etag;
  });
}

/** The file, unless it is missing or a symbolic link inside web/ leads outside it. */
async function readInside(root: string, filePath: string): Promise<ServedFile | undefined> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(filePath), realpath(root)]);
  } catch {
    return undefined;
  }
  if (!real.startsWith(realRoot + path.sep)) return undefined;
  return readCached(real);
}

export async function serveStatic(root: string, request: StaticRequest): Promise<StaticResponse> {
  const method = (request.method ?? 'GET').toUpperCase();
  if (isApiPath(request.path)) {
    return {
      status: 404,
      headers: { ...baseHeaders('application/json; charset=utf-8'), 'Cache-Control': 'no-store' },
      body: JSON.stringify({
        error: { code: 'route_not_found', message: 'There is no such API route. GET /api/openapi.json lists them.' },
      }),
    };
  }
  if (method !== 'GET' && method !== 'HEAD') {
    return {
      status: 405,
      headers: { ...baseHeaders('text/plain; charset=utf-8'), Allow: 'GET, HEAD' },
      body: 'Method not allowed',
    };
  }
  const filePath = resolveStaticPath(root, request.path);
  if (!filePath) return notFound('Not found');
  const relative = path.relative(path.resolve(root), filePath).split(path.sep).join('/');
  const vendored = vendorFile(relative);
  const file = GENERATED.get(relative) ?? (vendored ? await readCached(vendored) : await readInside(root, filePath));
  if (!file) return notFound('Not found');

  const contentType = contentTypeOf(filePath) as string;
  const headers: Record<string, string> = {
    ...baseHeaders(contentType),
    // Not fingerprinted: always revalidate (a 304 when unchanged).
    'Cache-Control': 'no-cache',
    ETag: file.etag,
  };
  if (contentType.startsWith('text/html')) {
    headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
    headers['X-Frame-Options'] = 'DENY';
  }
  if (etagMatches(request.ifNoneMatch, file.etag)) return { status: 304, headers };
  headers['Content-Length'] = String(file.body.length);
  return { status: 200, headers, body: method === 'HEAD' ? undefined : file.body };
}

/**
 * The app root (the folder holding host.json, where `web/` lives), found from a compiled or source file's
 * folder: dist/functions in a build, functions/ when tests load the TypeScript directly.
 */
export function findWebRoot(fromDir: string): string {
  let dir = path.resolve(fromDir);
  for (;;) {
    if (existsSync(path.join(dir, 'host.json')) && existsSync(path.join(dir, 'web'))) return path.join(dir, 'web');
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(fromDir, '../../web');
    dir = parent;
  }
}
