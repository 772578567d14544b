// @ts-check
// "Download CSV" on every table: a plain link to the list's `?format=csv`, so the browser saves the file as
// the API streams it (the API names it, e.g. licenses-2026-11-29.csv) instead of this page holding it whole.
import { storedKey } from './api.js';
import { h } from './dom.js';

/**
 * The URL of a list as CSV: its path and filters, plus format=csv.
 * @param {string} path A path of `listPath` (api.js).
 */
export function csvUrl(path) {
  return `${path}${path.includes('?') ? '&' : '?'}format=csv`;
}

/**
 * A link that downloads the list at `path` (e.g. `/api/licenses?portalId=x`) as a CSV file.
 * @param {string} path A path of `listPath` (api.js).
 * @param {string} what The list, for screen readers ("licenses").
 * @returns {HTMLAnchorElement}
 */
export function downloadLink(path, what) {
  const href = csvUrl(path);
  const link = h(
    'a',
    { class: 'btn btn-small download-csv', href, download: '', 'aria-label': `Download ${what} as CSV` },
    'Download CSV',
  );
  // With LICENSE_SYNC_AUTH=easyauth the platform's session cookie goes along with the link by itself. With
  // function keys: a link cannot send the x-functions-key header, but the Functions host also takes the key as
  // ?code=; it is added only for the click, so the key never sits in the page's markup.
  link.addEventListener('click', () => {
    const key = storedKey();
    link.href = key ? `${href}&code=${encodeURIComponent(key)}` : href;
    setTimeout(() => (link.href = href));
  });
  return link;
}
