/**
 * Cross-site request forgery: a page on another site can make the browser POST (a form, a `fetch` in no-cors
 * mode) with the user's session cookie. Browsers name the page's origin in `Origin` on every such request, so a
 * write whose Origin is not this app's own host is refused. Callers without a browser (automation) send none.
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isCrossSiteWrite(method: string, url: string, headers: { get(name: string): string | null }): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return false;
  if (headers.get('sec-fetch-site') === 'cross-site') return true;
  const origin = headers.get('origin');
  if (origin === null) return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    // `Origin: null` (sandboxed frames, file:) or garbage: not this app.
    return true;
  }
  const own = [new URL(url).host, headers.get('x-forwarded-host') ?? '', headers.get('x-original-host') ?? '']
    .flatMap((value) => value.split(','))
    .map((value) => value.trim().toLowerCase())
    .filter(Boolean);
  return !own.includes(originHost);
}
