// The HTTP API of the app (same origin, under /api). In Azure its routes need a function key: on a 401 the page
// asks for one, keeps it in this tab's sessionStorage and sends it as x-functions-key.

const KEY_STORAGE = 'm365-license-sync.functionKey';

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

let keyPrompt = async () => undefined;
let pendingPrompt;

/** app.js installs the dialog that asks for the function key: (wasRejected: boolean) => Promise<string|undefined> */
export function setKeyPrompt(prompt) {
  keyPrompt = prompt;
}

export function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled: the key then lives only as long as this page.
  }
}

async function askKey(rejected) {
  // Several requests may hit 401 at once: ask once.
  pendingPrompt ??= keyPrompt(rejected).finally(() => {
    pendingPrompt = undefined;
  });
  return pendingPrompt;
}

function messageForStatus(status, statusText) {
  if (status === 404) return 'Not found: it may have been deleted meanwhile.';
  if (status >= 500)
    return `The app answered with an error (${status}). Try again; if it persists, check the app's logs.`;
  return `The request failed (${status} ${statusText}).`;
}

export async function api(method, path, body) {
  let rejectedKey = false;
  for (;;) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const key = storedKey();
    if (key) headers['x-functions-key'] = key;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(
        0,
        'network',
        'The app could not be reached. Check your connection and that the app is running, then try again.',
      );
    }
    if (response.status === 401) {
      if (key) rejectedKey = true;
      const next = await askKey(rejectedKey);
      if (!next)
        throw new ApiError(
          401,
          'unauthorized',
          'The API needs a function key. Choose "Function key" at the top of the page to enter it.',
        );
      storeKey(next);
      continue;
    }
    const text = await response.text();
    let data;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (!response.ok) {
      const error = data && typeof data === 'object' ? data.error : undefined;
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? messageForStatus(response.status, response.statusText),
        error?.fields,
      );
    }
    return data;
  }
}

const enc = encodeURIComponent;

/** Lists may come as a bare array or wrapped ({ items } or { value }). */
export function asList(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const key of [...keys, 'items', 'value']) {
    if (data && Array.isArray(data[key])) return data[key];
  }
  return [];
}

export const portals = {
  list: async () => asList(await api('GET', '/api/portals'), 'portals'),
  get: (id) => api('GET', `/api/portals/${enc(id)}`),
  create: (body) => api('POST', '/api/portals', body),
  /** Connect a tenant: `{ consentUrl, expiresAt }` of Microsoft's admin-consent page. */
  connect: (body) => api('POST', '/api/portals/connect', body),
  update: (id, body) => api('PATCH', `/api/portals/${enc(id)}`, body),
  remove: (id, purge) => api('DELETE', `/api/portals/${enc(id)}${purge ? '?purge=true' : ''}`),
  verify: (id) => api('POST', `/api/portals/${enc(id)}/verify`),
  sync: (id) => api('POST', `/api/portals/${enc(id)}/sync`),
  preview: (id) => api('POST', `/api/portals/${enc(id)}/sync?dryRun=true`),
  runs: async (id) => asList(await api('GET', `/api/portals/${enc(id)}/runs`), 'runs'),
  run: (id, runId) => api('GET', `/api/portals/${enc(id)}/runs/${enc(runId)}`),
};

export const licenses = {
  list: async (portalId) =>
    asList(await api('GET', `/api/licenses${portalId ? `?portalId=${enc(portalId)}` : ''}`), 'licenses'),
  get: (id) => api('GET', `/api/licenses/${enc(id)}`),
  consumers: async (id) => asList(await api('GET', `/api/licenses/${enc(id)}/consumers`), 'consumers'),
  link: (id, contactId) => api('POST', `/api/licenses/${enc(id)}/consumers`, { contactId }),
  unlink: (id, contactId) => api('DELETE', `/api/licenses/${enc(id)}/consumers/${enc(contactId)}`),
};

export const contacts = {
  /** Contacts holding the address (the API may answer with one contact or a list). */
  find: async (email) => {
    try {
      const data = await api('GET', `/api/contacts?email=${enc(email)}`);
      if (Array.isArray(data)) return data;
      const list = asList(data, 'contacts');
      if (list.length) return list;
      return data && typeof data === 'object' && data.id ? [data] : [];
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return [];
      throw error;
    }
  },
  create: (body) => api('POST', '/api/contacts', body),
};
