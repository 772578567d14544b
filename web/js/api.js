// @ts-check
// The HTTP API of the app (same origin, under /api). In Azure its routes need a function key: on a 401 the page
// asks for one, keeps it in this tab's sessionStorage and sends it as x-functions-key.

// The shapes the API answers with (zod's output) and accepts (zod's input): inferred from the very schemas the
// server parses them with, so a change there that the page does not follow fails its type check.
/**
 * @template {import('zod').ZodType} T
 * @typedef {import('zod').output<T>} Out
 */
/** @typedef {typeof import('../../src/api/schemas')} Schemas */
/** @typedef {Out<Schemas['portalSchema']>} Portal */
/** @typedef {import('zod').input<Schemas['portalCreateSchema']>} PortalCreate */
/** @typedef {import('zod').input<Schemas['portalChangeSchema']>} PortalChange */
/** @typedef {import('zod').input<Schemas['portalAuthSchema']>} PortalAuth */
/** @typedef {import('zod').input<Schemas['portalConnectSchema']>} PortalConnect */
/** @typedef {Out<Schemas['consentStartSchema']>} ConsentStart */
/** @typedef {import('../../src/api/schemas').FieldError} FieldError */
/** @typedef {Out<Schemas['verifyResultSchema']>} VerifyResult */
/** @typedef {Out<Schemas['runSchema']>} Run */
/** @typedef {NonNullable<Portal['lastRun']>} LastRun */
/** @typedef {Run['counts']} RunCounts */
/** @typedef {Out<Schemas['syncQueuedSchema']>} SyncQueued */
/** @typedef {Out<Schemas['syncPreviewSchema']>} SyncPreview */
/** @typedef {SyncPreview['plan']} ChangePlan */
/** @typedef {Out<Schemas['licenseSchema']>} License */
/** @typedef {Out<Schemas['consumerSchema']>} Consumer */
/** @typedef {Out<Schemas['consumerListItemSchema']>} ConsumerListItem */
/** @typedef {NonNullable<Consumer['assignment']>} Assignment */
/** @typedef {Out<Schemas['contactSchema']>} Contact */
/** @typedef {import('zod').input<Schemas['contactCreateSchema']>} ContactCreate */
/** @typedef {typeof import('../../src/api/alertSchemas')} AlertSchemas */
/** @typedef {Out<AlertSchemas['alertSchema']>} Alert */
/** @typedef {Out<AlertSchemas['alertListSchema']>} AlertList */
/** @typedef {Out<AlertSchemas['alertRulesViewSchema']>} AlertRulesView */
/** @typedef {import('zod').input<AlertSchemas['alertRulesBodySchema']>} AlertRulesInput */
/** @typedef {Out<AlertSchemas['channelSchema']>} Channel */
/** @typedef {import('zod').input<AlertSchemas['channelCreateSchema']>} ChannelCreate */
/** @typedef {Out<AlertSchemas['channelTestResultSchema']>} ChannelTestResult */
/** @typedef {typeof import('../../src/api/access')} AccessSchemas */
/** @typedef {Out<AccessSchemas['meSchema']>} Me */
/** @typedef {Out<AccessSchemas['auditPageSchema']>} AuditPage */
/** @typedef {typeof import('../../src/api/insightsSchemas')} InsightSchemas */
/** @typedef {Out<InsightSchemas['historySchema']>['items'][number]} LicenseSnapshot */
/** @typedef {Out<InsightSchemas['licensedUsersReportSchema']>['items'][number]} LicensedUsersMonth */
/** @typedef {Out<InsightSchemas['planPriceSchema']>} PlanPrice */
/** @typedef {Out<InsightSchemas['licensePriceSchema']>} LicensePrice */
/** @typedef {import('zod').input<InsightSchemas['priceBodySchema']>} PriceInput */
/** @typedef {Out<InsightSchemas['wasteReportSchema']>} WasteReport */
/** @typedef {WasteReport['items'][number]} WasteItem */
/** @typedef {typeof import('../../src/api/renewalSchemas')} RenewalSchemas */
/** @typedef {Out<RenewalSchemas['renewalItemSchema']>} RenewalItem */
/** @typedef {Out<RenewalSchemas['renewalSettingsBodySchema']>} RenewalSettings */
/** @typedef {RenewalItem['term']} Term */

const KEY_STORAGE = 'm365-license-sync.functionKey';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {FieldError[]} [fields]
   */
  constructor(status, code, message, fields) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

/** @typedef {(wasRejected: boolean) => Promise<string | undefined>} KeyPrompt */

/** @type {KeyPrompt} */
let keyPrompt = () => Promise.resolve(undefined);
/** @type {Promise<string | undefined> | undefined} */
let pendingPrompt;

/**
 * app.js installs the dialog that asks for the function key.
 * @param {KeyPrompt} prompt
 */
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

/** @param {string | undefined} key */
export function storeKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled: the key then lives only as long as this page.
  }
}

/** @param {boolean} rejected */
async function askKey(rejected) {
  // Several requests may hit 401 at once: ask once.
  pendingPrompt ??= keyPrompt(rejected).finally(() => {
    pendingPrompt = undefined;
  });
  return pendingPrompt;
}

/**
 * @param {number} status
 * @param {string} statusText
 */
function messageForStatus(status, statusText) {
  if (status === 404) return 'Not found: it may have been deleted meanwhile.';
  if (status >= 500)
    return `The app answered with an error (${status}). Try again; if it persists, check the app's logs.`;
  return `The request failed (${status} ${statusText}).`;
}

/**
 * One request; resolves the parsed JSON answer (undefined when empty), rejects with an ApiError.
 * @param {'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<unknown>}
 */
export async function api(method, path, body) {
  let rejectedKey = false;
  for (;;) {
    /** @type {Record<string, string>} */
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
    /** @type {unknown} */
    let data;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (!response.ok) {
      const error = /** @type {Partial<import('../../src/api/schemas').ErrorResponse> | undefined} */ (data)?.error;
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

/**
 * The answer of a request, as the server's schema for it says.
 * @template T
 * @param {'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<T>}
 */
async function call(method, path, body) {
  return /** @type {T} */ (await api(method, path, body));
}

/**
 * One page of a list answer: its items, and where the next page starts (absent on the last page).
 * @template T
 * @typedef {{ items: T[]; continuationToken?: string }} Page
 */

/**
 * One page of a paged list.
 * @template T
 * @param {string} path
 * @param {string} [token] the continuationToken of the page before
 * @returns {Promise<Page<T>>}
 */
async function page(path, token) {
  const next = token ? `${path}${path.includes('?') ? '&' : '?'}continuationToken=${enc(token)}` : path;
  return /** @type {Page<T>} */ (await api('GET', next));
}

/**
 * Every item of a list, following its continuation tokens.
 * @template T
 * @param {string} path
 * @returns {Promise<T[]>}
 */
async function items(path) {
  /** @type {T[]} */
  const all = [];
  /** @type {string | undefined} */
  let token;
  do {
    const answer = /** @type {Page<T>} */ (await page(path, token));
    all.push(...answer.items);
    token = answer.continuationToken;
  } while (token);
  return all;
}

/** Where each list is: what the page reads, and what its "Download CSV" links point at with format=csv. */
export const listPath = {
  portals: () => '/api/portals',
  /** @param {string} portalId */
  runs: (portalId) => `/api/portals/${enc(portalId)}/runs`,
  /** @param {string} [portalId] */
  licenses: (portalId) => `/api/licenses${portalId ? `?portalId=${enc(portalId)}` : ''}`,
  /** @param {string} licenseId */
  consumers: (licenseId) => `/api/licenses/${enc(licenseId)}/consumers`,
  /** @param {string} email */
  contacts: (email) => `/api/contacts?email=${enc(email)}`,
  audit: () => '/api/audit',
  /** @param {string} licenseId */
  history: (licenseId) => `/api/licenses/${enc(licenseId)}/history`,
  /** @param {string} month */
  licensedUsers: (month) => `/api/reports/licensed-users?month=${enc(month)}`,
  prices: () => '/api/prices',
  waste: () => '/api/insights/waste',
  alerts: () => '/api/alerts?state=all',
  /** @param {{ portalId?: string, withinDays?: number }} [filter] */
  renewals: (filter = {}) => {
    const query = new URLSearchParams();
    if (filter.portalId) query.set('portalId', filter.portalId);
    if (filter.withinDays !== undefined) query.set('withinDays', String(filter.withinDays));
    const text = query.toString();
    return `/api/insights/renewals${text ? `?${text}` : ''}`;
  },
};

export const portals = {
  /** @type {() => Promise<Portal[]>} */
  list: () => items(listPath.portals()),
  /** @type {(id: string) => Promise<Portal>} */
  get: (id) => call('GET', `/api/portals/${enc(id)}`),
  /** @type {(body: PortalCreate) => Promise<Portal>} */
  create: (body) => call('POST', '/api/portals', body),
  /**
   * Connect a tenant: Microsoft's admin-consent page to open, and until when it may be used.
   * @type {(body: PortalConnect) => Promise<ConsentStart>}
   */
  connect: (body) => call('POST', '/api/portals/connect', body),
  /** @type {(id: string, body: PortalChange) => Promise<Portal>} */
  update: (id, body) => call('PATCH', `/api/portals/${enc(id)}`, body),
  /** @type {(id: string, purge: boolean) => Promise<void>} */
  remove: (id, purge) => call('DELETE', `/api/portals/${enc(id)}${purge ? '?purge=true' : ''}`),
  /** @type {(id: string) => Promise<VerifyResult>} */
  verify: (id) => call('POST', `/api/portals/${enc(id)}/verify`),
  /** @type {(id: string) => Promise<SyncQueued>} */
  sync: (id) => call('POST', `/api/portals/${enc(id)}/sync`),
  /** @type {(id: string) => Promise<SyncPreview>} */
  preview: (id) => call('POST', `/api/portals/${enc(id)}/sync?dryRun=true`),
  /**
   * The latest runs (the first page of the history).
   * @param {string} id
   * @returns {Promise<Run[]>}
   */
  runs: async (id) => /** @type {Page<Run>} */ (await page(listPath.runs(id))).items,
};

export const licenses = {
  /** @type {(portalId?: string) => Promise<License[]>} */
  list: (portalId) => items(listPath.licenses(portalId)),
  /** @type {(id: string) => Promise<License>} */
  get: (id) => call('GET', `/api/licenses/${enc(id)}`),
  /**
   * A page of the consumers (100 unless `limit`, at most 1,000).
   * @type {(id: string, token?: string, limit?: number) => Promise<Page<ConsumerListItem>>}
   */
  consumers: (id, token, limit) => page(`${listPath.consumers(id)}${limit ? `?limit=${limit}` : ''}`, token),
  /** @type {(id: string, contactId: string) => Promise<Consumer>} */
  link: (id, contactId) => call('POST', `/api/licenses/${enc(id)}/consumers`, { contactId }),
  /** @type {(id: string, contactId: string) => Promise<void>} */
  unlink: (id, contactId) => call('DELETE', `/api/licenses/${enc(id)}/consumers/${enc(contactId)}`),
  /** @type {(id: string) => Promise<LicenseSnapshot[]>} The last 12 months, oldest first. */
  history: (id) => items(listPath.history(id)),
  /** @type {(id: string, body: PriceInput) => Promise<LicensePrice>} */
  setPrice: (id, body) => call('PUT', `/api/licenses/${enc(id)}/price`, body),
  /** @type {(id: string) => Promise<void>} */
  removePrice: (id) => call('DELETE', `/api/licenses/${enc(id)}/price`),
};

export const prices = {
  /** @type {() => Promise<PlanPrice[]>} */
  list: () => items(listPath.prices()),
  /** @type {(skuId: string, body: PriceInput) => Promise<PlanPrice>} */
  set: (skuId, body) => call('PUT', `/api/prices/${enc(skuId)}`, body),
  /** @type {(skuId: string) => Promise<void>} */
  remove: (skuId) => call('DELETE', `/api/prices/${enc(skuId)}`),
};

export const insights = {
  /** @type {(portalId?: string) => Promise<WasteReport>} */
  waste: (portalId) => call('GET', `/api/insights/waste${portalId ? `?portalId=${enc(portalId)}` : ''}`),
  /** @type {(month: string) => Promise<LicensedUsersMonth[]>} */
  licensedUsers: (month) => items(listPath.licensedUsers(month)),
  /** @type {(filter?: { portalId?: string, withinDays?: number }) => Promise<RenewalItem[]>} Soonest first. */
  renewals: (filter) => items(listPath.renewals(filter)),
  /** @type {() => Promise<RenewalSettings>} */
  renewalSettings: () => call('GET', '/api/insights/renewals/settings'),
  /** @type {(body: RenewalSettings) => Promise<RenewalSettings>} */
  saveRenewalSettings: (body) => call('PUT', '/api/insights/renewals/settings', body),
  /** @type {(subscriptionId: string, term: Term) => Promise<unknown>} */
  setTerm: (subscriptionId, term) => call('PUT', `/api/subscriptions/${enc(subscriptionId)}/term`, { term }),
  /** @type {(subscriptionId: string) => Promise<void>} Back to the term inferred from the dates. */
  clearTerm: (subscriptionId) => call('DELETE', `/api/subscriptions/${enc(subscriptionId)}/term`),
};

export const session = {
  /** @type {() => Promise<Me>} Who is signed in. */
  me: () => call('GET', '/api/me'),
};

export const audit = {
  /** @type {(continuationToken?: string) => Promise<AuditPage>} One page, newest first. */
  list: (continuationToken) =>
    call(
      'GET',
      `${listPath.audit()}?limit=50${continuationToken ? `&continuationToken=${enc(continuationToken)}` : ''}`,
    ),
};

export const contacts = {
  /**
   * The contacts holding the address (none or one).
   * @param {string} email
   * @returns {Promise<Contact[]>}
   */
  find: (email) => items(listPath.contacts(email)),
  /** @type {(body: ContactCreate) => Promise<Contact>} */
  create: (body) => call('POST', '/api/contacts', body),
};

export const alerts = {
  /** @type {(state: 'open' | 'resolved', limit?: number) => Promise<AlertList>} */
  list: (state, limit = 100) => call('GET', `/api/alerts?state=${state}&limit=${limit}`),
  /** @type {() => Promise<AlertRulesView>} */
  rules: () => call('GET', '/api/alerts/rules'),
  /** @type {(body: AlertRulesInput) => Promise<AlertRulesView>} */
  saveRules: (body) => call('PUT', '/api/alerts/rules', body),
};

export const channels = {
  /** @type {() => Promise<Channel[]>} */
  list: () => items('/api/notifications/channels'),
  /** @type {(body: ChannelCreate) => Promise<Channel>} */
  create: (body) => call('POST', '/api/notifications/channels', body),
  /** @type {(id: string) => Promise<void>} */
  remove: (id) => call('DELETE', `/api/notifications/channels/${enc(id)}`),
  /** @type {(id: string) => Promise<ChannelTestResult>} */
  test: (id) => call('POST', `/api/notifications/channels/${enc(id)}/test`),
};
