import { randomBytes, randomUUID } from 'node:crypto';
import type { TableLedger } from '../ledger';
import { startSimulator, type SimTenant, type Simulator } from '../local/simulator';
import { runSync } from '../sync/runSync';
import { startApi, type ApiHarness } from '../../test/api/harness';
import { portalName } from '../../test/api/tenant';
import { testTls } from '../../test/support/env';
import { getTableClient } from '../storage/clients';

/**
 * Data integrity and bounded reads over HTTP: a purge while a sync runs, paged lists (consumers without contact
 * reads), and a run waiting for the queue's retry. Real routes over Azurite and the simulated tenant.
 */
let sim: Simulator;
let api: ApiHarness;
const clientId = randomUUID();
const clientSecret = `cs-${randomBytes(12).toString('base64url')}`;

beforeAll(async () => {
  sim = await startSimulator(testTls());
  api = await startApi({ simulator: { authorityHost: sim.authorityHost, graphEndpoint: sim.graphEndpoint } });
});
afterAll(async () => {
  await sim?.close();
});

function tenant(users: number, seed: number): SimTenant {
  return sim.addTenant({ apps: [{ clientId, clientSecret }], generated: { users, plans: 2, seed } });
}

async function createPortal(t: SimTenant): Promise<string> {
  const created = await api.call('portalsCreate', {
    body: {
      name: portalName('Integrity'),
      tenantId: t.tenantId,
      clientId,
      cloud: 'simulated',
      auth: { kind: 'clientSecret', clientSecret },
    },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

/** "Sync now" and the queue worker's run of it. */
async function syncNow(portalId: string, dequeueCount = 1) {
  const queued = await api.call('portalsSync', { params: { id: portalId } });
  return runSync(
    api.services,
    { portalId, runId: queued.body.runId, trigger: 'manual' },
    { dequeueCount, maxDequeueCount: 5, retryDelayMs: 60_000 },
  );
}

/** Every row left in the tables partitioned by portal. */
async function rowsOf(portalId: string): Promise<string[]> {
  const rows: string[] = [];
  for (const name of ['licenses', 'consumers', 'userlinks', 'runs'] as const) {
    const table = await getTableClient(api.settings, name);
    for await (const row of table.listEntities({ queryOptions: { filter: `PartitionKey eq '${portalId}'` } }))
      rows.push(`${name}/${row.rowKey}`);
  }
  return rows;
}

describe('deleting a portal access with ?purge=true while its sync runs', () => {
  it('stops the run before it writes, finishes the purge when repeated, and leaves no row of the portal behind', async () => {
    const t = tenant(120, 11);
    const portalId = await createPortal(t);
    expect((await syncNow(portalId)).status).toBe('succeeded');
    t.addUser({
      displayName: 'Late Joiner',
      userPrincipalName: `late.joiner@${String(t.domains[0])}`,
      licenses: [{ sku: String(t.subscribedSkus()[0]!.skuId) }],
    });

    // The next run holds the portal while Graph throttles its read of the users: the delete comes then.
    let reading!: () => void;
    const readingUsers = new Promise<void>((resolve) => (reading = resolve));
    t.fail({ kind: 'throttle', retryAfter: '1.5' }, { resource: 'users', match: () => (reading(), true) });
    const running = syncNow(portalId).then(
      (run) => run,
      (error: unknown) => error,
    );
    await readingUsers;

    const deleted = await api.call('portalsDelete', { params: { id: portalId }, query: '?purge=true' });
    expect(deleted.status).toBe(202);
    const marked = await api.call('portalsGet', { params: { id: portalId } });
    expect(marked.body.deletingAt).toEqual(expect.any(String));
    // Nothing starts on a portal being deleted.
    expect((await api.call('portalsSync', { params: { id: portalId } })).body.error.code).toBe('portal_deleting');
    expect((await api.call('portalsChange', { params: { id: portalId }, body: { active: false } })).status).toBe(409);

    // The run stops at its next write (its lease was revoked) and is retried by the queue.
    expect(await running).toMatchObject({ code: 'lease_lost', transient: true });
    // Repeating the delete (or the queued purge job) finishes it: the record goes last.
    const again = await api.call('portalsDelete', { params: { id: portalId }, query: '?purge=true' });
    expect(again.status).toBe(204);
    expect((await api.call('portalsGet', { params: { id: portalId } })).status).toBe(404);
    expect(await rowsOf(portalId)).toEqual([]);
  });

  it('purges at once (204) when no run holds the portal', async () => {
    const portalId = await createPortal(tenant(20, 12));
    expect((await syncNow(portalId)).status).toBe('succeeded');
    expect((await api.call('portalsDelete', { params: { id: portalId }, query: '?purge=true' })).status).toBe(204);
    expect(await rowsOf(portalId)).toEqual([]);
  });
});

describe('paged lists', () => {
  let portalId: string;
  let big: { id: string; assigned: number };
  beforeAll(async () => {
    portalId = await createPortal(tenant(300, 21));
    await createPortal(tenant(5, 22));
    expect((await syncNow(portalId)).status).toBe('succeeded');
    const licenses = await api.call('licensesList', { query: `?portalId=${portalId}` });
    big = licenses.body.items.sort((a: { assigned: number }, b: { assigned: number }) => b.assigned - a.assigned)[0];
    expect(big.assigned).toBeGreaterThan(150);
  });

  it('answers a page of 100 consumers with their contacts in at most 2 storage requests, whatever the size of the plan', async () => {
    const stats = (api.services.ledger as TableLedger).stats;
    const before = stats.requests;
    const page = await api.call('consumersList', { params: { id: big.id } });
    expect(stats.requests - before).toBeLessThanOrEqual(2);
    expect(page.body.items).toHaveLength(100);
    expect(page.body.continuationToken).toEqual(expect.any(String));
    for (const item of page.body.items) {
      expect(item.contact).toMatchObject({ id: item.contactId, email: expect.stringContaining('@') });
      expect(item.contact.displayName).not.toBe('');
      expect(item.lastSeen).toEqual(expect.any(String));
    }
  });

  it('follows continuationToken to the last page, which has none, and lists every consumer once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = `?limit=70${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`;
      const page = await api.call('consumersList', { params: { id: big.id }, query });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(70);
      seen.push(...page.body.items.map((item: { contactId: string }) => item.contactId));
      token = page.body.continuationToken;
      pages += 1;
    } while (token);
    expect(pages).toBe(Math.ceil(big.assigned / 70));
    expect(new Set(seen).size).toBe(big.assigned);
    expect(seen).toHaveLength(big.assigned);
  });

  it('refuses a bad token or limit with 400 naming the parameter', async () => {
    for (const query of ['?limit=0', '?limit=1001', '?limit=abc', '?continuationToken=not%20a%20token']) {
      const res = await api.call('consumersList', { params: { id: big.id }, query });
      expect(res.status).toBe(400);
      expect(res.body.error.fields[0]).toMatchObject({ in: 'query', path: query.slice(1).split('=')[0] });
    }
    const forged = Buffer.from('{"nextPartitionKey":1}').toString('base64url');
    expect(
      (await api.call('runsList', { params: { id: portalId }, query: `?continuationToken=${forged}` })).status,
    ).toBe(400);
  });

  it('pages the portal accesses, licenses and runs the same way, in the same order as one long list', async () => {
    await syncNow(portalId);
    await syncNow(portalId);
    const cases: [string, { params?: Record<string, string>; query?: string }][] = [
      ['portalsList', {}],
      ['licensesList', { query: `?portalId=${portalId}` }],
      ['licensesList', {}],
      ['runsList', { params: { id: portalId } }],
    ];
    for (const [fn, options] of cases) {
      const whole = await api.call(fn, { ...options, query: `${options.query ? `${options.query}&` : '?'}limit=1000` });
      expect(whole.body.continuationToken).toBeUndefined();
      expect(whole.body.items.length).toBeGreaterThanOrEqual(2);
      const ids: string[] = [];
      let token: string | undefined;
      do {
        const extra = `limit=1${token ? `&continuationToken=${token}` : ''}`;
        const page = await api.call(fn, { ...options, query: `${options.query ? `${options.query}&` : '?'}${extra}` });
        expect(page.body.items.length).toBeLessThanOrEqual(1);
        ids.push(...page.body.items.map((item: { id: string }) => item.id));
        token = page.body.continuationToken;
      } while (token);
      expect(ids).toEqual(whole.body.items.map((item: { id: string }) => item.id));
    }
  });
});

describe('a run waiting for the queue to retry it', () => {
  it('shows retrying with the next attempt, the last error and when it starts, in the run and the portal', async () => {
    const t = tenant(10, 31);
    const portalId = await createPortal(t);
    t.fail({ kind: 'reset', afterBytes: 200 }, { resource: 'users', times: Infinity });
    const before = Date.now();
    await expect(syncNow(portalId)).rejects.toMatchObject({ transient: true });
    const [run] = (await api.call('runsList', { params: { id: portalId } })).body.items;
    expect(run).toMatchObject({
      status: 'retrying',
      attempt: 2,
      maxAttempts: 5,
      errorCode: 'graph_unreachable',
      errorMessage: expect.any(String),
    });
    expect(Date.parse(run.nextAttemptAt)).toBeGreaterThanOrEqual(before + 60_000);
    expect((await api.call('runsGet', { params: { id: portalId, runId: run.id } })).body).toEqual(run);
    const portal = (await api.call('portalsGet', { params: { id: portalId } })).body;
    expect(portal.lastRun).toMatchObject({ id: run.id, status: 'retrying', attempt: 2, maxAttempts: 5 });
  });
});
