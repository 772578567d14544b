import { runSync } from '../sync/runSync';
import { expectNoSecrets, startApi, type ApiHarness } from '../../test/api/harness';
import { portalBody, portalName, startTestTenant, type TestTenant } from '../../test/api/tenant';

describe('sync now, dry run and run history over HTTP', () => {
  let t: TestTenant;
  let api: ApiHarness;

  const createPortal = async (overrides: Record<string, unknown> = {}) => {
    const res = await api.call('portalsCreate', {
      body: portalBody(t, overrides),
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string };
  };
  /** What the queue worker does with the message of a queued run. */
  const work = (portalId: string, runId: string) =>
    runSync(api.services, { portalId, runId, trigger: 'manual' }, { dequeueCount: 1, maxDequeueCount: 5 });

  beforeAll(async () => {
    t = await startTestTenant();
    api = await startApi({
      simulator: { authorityHost: t.simulator.authorityHost, graphEndpoint: t.simulator.graphEndpoint },
    });
  });
  afterAll(async () => {
    expectNoSecrets({ logs: api.logs, bodies: api.bodies }, t.secrets);
    await t?.close();
  });

  it('queues a run (202 with its id), which the history then shows, newest first', async () => {
    const portal = await createPortal();
    const first = await api.call('portalsSync', { params: { id: portal.id } });
    expect(first.status).toBe(202);
    expect(Object.keys(first.body)).toEqual(['runId']);
    const second = await api.call('portalsSync', { params: { id: portal.id } });
    const runs = await api.call('runsList', { params: { id: portal.id } });
    expect(runs.status).toBe(200);
    expect(runs.body.items.map((r: { id: string }) => r.id)).toEqual([second.body.runId, first.body.runId]);
    expect(runs.body.items[0]).toMatchObject({ portalId: portal.id, trigger: 'manual', status: 'queued' });
    const limited = await api.call('runsList', { params: { id: portal.id }, query: '?limit=1' });
    expect(limited.body.items).toHaveLength(1);
  });

  it('reads one run, and a finished one carries its counts', async () => {
    const portal = await createPortal();
    const queued = await api.call('portalsSync', { params: { id: portal.id } });
    await work(portal.id, queued.body.runId);
    const run = await api.call('runsGet', { params: { id: portal.id, runId: queued.body.runId } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      id: queued.body.runId,
      status: 'succeeded',
      counts: { plansRead: 3, usersRead: 3 },
    });
    const read = await api.call('portalsGet', { params: { id: portal.id } });
    expect(read.body.lastRun).toMatchObject({ id: queued.body.runId, status: 'succeeded' });
    expect(read.body).not.toHaveProperty('deltaLink');
    expect(read.body).not.toHaveProperty('lastFullReadAt');
  });

  it('returns the plan of changes of a dry run (200) and writes no ledger data', async () => {
    const portal = await createPortal();
    const res = await api.call('portalsSync', { params: { id: portal.id }, query: '?dryRun=true' });
    expect(res.status).toBe(200);
    expect(res.body.plan.licenses.create).toHaveLength(3);
    expect(res.body.plan.counts).toMatchObject({ plansRead: 3, usersRead: 3, licensesCreated: 3 });
    expect(typeof res.body.summary.headline).toBe('string');
    expect(res.text).not.toContain('userFingerprint');
    const licenses = await api.call('licensesList', { query: `?portalId=${portal.id}` });
    expect(licenses.body.items).toEqual([]);
    const runs = await api.call('runsList', { params: { id: portal.id } });
    expect(runs.body.items[0]).toMatchObject({ id: res.body.runId, trigger: 'dryRun', status: 'succeeded' });
  });

  it('maps a failed sign-in of a dry run to its code (422)', async () => {
    const portal = await createPortal({ auth: { kind: 'clientSecret', clientSecret: 'a-wrong-secret-for-dry-run' } });
    const res = await api.call('portalsSync', { params: { id: portal.id }, query: '?dryRun=true' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_client_secret');
  });

  it('refuses to sync a deactivated portal (409) and an unknown one (404)', async () => {
    const portal = await createPortal({ active: false });
    const inactive = await api.call('portalsSync', { params: { id: portal.id } });
    expect(inactive.status).toBe(409);
    expect(inactive.body.error.code).toBe('portal_inactive');
    expect((await api.call('portalsSync', { params: { id: 'no-such-portal' } })).status).toBe(404);
    expect((await api.call('portalsSync', { params: { id: 'no-such-portal' }, query: '?dryRun=true' })).status).toBe(
      404,
    );
  });

  it('refuses bad flags, unknown parameters and bad ids (400)', async () => {
    const portal = await createPortal();
    expect((await api.call('portalsSync', { params: { id: portal.id }, query: '?dryRun=yes' })).status).toBe(400);
    expect((await api.call('portalsSync', { params: { id: portal.id }, query: '?force=true' })).status).toBe(400);
    expect(
      (await api.call('portalsSync', { params: { id: portal.id }, query: '?dryRun=true&dryRun=false' })).status,
    ).toBe(400);
    expect((await api.call('runsList', { params: { id: portal.id }, query: '?limit=0' })).status).toBe(400);
    expect((await api.call('runsList', { params: { id: portal.id }, query: '?limit=abc' })).status).toBe(400);
    expect((await api.call('runsGet', { params: { id: portal.id, runId: 'bad run id' } })).status).toBe(400);
  });

  it('answers 404 for the runs of an unknown portal and an unknown run', async () => {
    const portal = await createPortal();
    expect((await api.call('runsList', { params: { id: 'no-such-portal' } })).status).toBe(404);
    const missing = await api.call('runsGet', { params: { id: portal.id, runId: '0000000000000-deadbeef' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('keeps the history and the ledger data when name, flags or credentials change', async () => {
    const portal = await createPortal();
    const queued = await api.call('portalsSync', { params: { id: portal.id } });
    await work(portal.id, queued.body.runId);
    const licensesBefore = (await api.call('licensesList', { query: `?portalId=${portal.id}` })).body.items;
    expect(licensesBefore).toHaveLength(3);

    const changed = await api.call('portalsChange', {
      params: { id: portal.id },
      body: {
        name: portalName('Renamed'),
        autoSync: false,
        auth: { kind: 'clientSecret', clientSecret: t.otherClientSecret },
      },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.lastRun).toMatchObject({ id: queued.body.runId });
    const runs = await api.call('runsList', { params: { id: portal.id } });
    expect(runs.body.items.map((r: { id: string }) => r.id)).toContain(queued.body.runId);
    const licensesAfter = (await api.call('licensesList', { query: `?portalId=${portal.id}` })).body.items;
    expect(licensesAfter.map((l: { id: string }) => l.id).sort()).toEqual(
      licensesBefore.map((l: { id: string }) => l.id).sort(),
    );

    // The new credentials work: the next run succeeds.
    const next = await api.call('portalsSync', { params: { id: portal.id } });
    expect((await work(portal.id, next.body.runId)).status).toBe('succeeded');
  });

  it('keeps a deleted portal’s runs and ledger data, and purges them with ?purge=true', async () => {
    const kept = await createPortal();
    const keptRun = await api.call('portalsSync', { params: { id: kept.id } });
    await work(kept.id, keptRun.body.runId);
    expect((await api.call('portalsDelete', { params: { id: kept.id } })).status).toBe(204);
    expect((await api.call('licensesList', { query: `?portalId=${kept.id}` })).body.items).toHaveLength(3);
    expect((await api.call('runsList', { params: { id: kept.id } })).body.items.length).toBeGreaterThan(0);
    expect((await api.call('runsGet', { params: { id: kept.id, runId: keptRun.body.runId } })).status).toBe(200);

    const purged = await createPortal();
    const purgedRun = await api.call('portalsSync', { params: { id: purged.id } });
    await work(purged.id, purgedRun.body.runId);
    expect((await api.call('portalsDelete', { params: { id: purged.id }, query: '?purge=true' })).status).toBe(204);
    expect((await api.call('licensesList', { query: `?portalId=${purged.id}` })).body.items).toEqual([]);
    expect((await api.call('runsList', { params: { id: purged.id } })).status).toBe(404);
    // Contacts are shared by all portals: they stay.
    const contact = await api.call('contactsFind', {
      query: `?email=${encodeURIComponent(`ada@${t.tenant.domains[0]}`)}`,
    });
    expect(contact.body.items).toHaveLength(1);
  });
});
