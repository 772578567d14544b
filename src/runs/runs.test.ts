import http from 'node:http';
import type { Services } from '../domain/ports';
import { createAuditTrail } from '../ledger/audit';
import { createConsentStateStore } from '../ledger/consentStates';
import { AppError } from '../domain/errors';
import { lastRunSchema, type LastRun, type PortalRecord, type RunRecord } from '../domain/records';
import { createLedger, type TableLedger } from '../ledger';
import { newQueuedRun } from '../domain/runs';
import { testSettings } from '../../test/support/env';
import { queueRun } from './enqueue';
import { fanOutScheduledRuns } from './fanout';
import { runMessageSchema, type QueueMessage } from '../domain/runMessage';
import { failPoisonedRun } from './poison';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function services(): Promise<Services & { sent: QueueMessage[]; ledger: TableLedger }> {
  const settings = testSettings();
  const sent: QueueMessage[] = [];
  return {
    settings,
    ledger: await createLedger(settings),
    secrets: {
      set: async () => undefined,
      get: async () => undefined,
      delete: async () => undefined,
      setChannel: async () => undefined,
      getChannel: async () => undefined,
      deleteChannel: async () => undefined,
    },
    planNames: async () => ({ displayName: (_id, part) => part }),
    openTenant: () => {
      throw new Error('no tenant in these tests');
    },
    runQueue: {
      send: async (message) => {
        sent.push(message);
      },
    },
    notificationQueue: { send: async () => undefined },
    audit: createAuditTrail(settings),
    consentStates: createConsentStateStore(settings),
    logger: silent,
    now: () => new Date(),
    sent,
  };
}

let counter = 0;
async function portal(s: Services, fields: Partial<PortalRecord> = {}): Promise<PortalRecord> {
  const now = new Date().toISOString();
  counter += 1;
  return s.ledger.portals.create({
    id: `portal${counter}-${Date.now()}`,
    name: `Portal ${counter} ${Date.now()}`,
    tenantId: 'contoso.onmicrosoft.com',
    clientId: '00000000-0000-0000-0000-000000000001',
    cloud: 'global',
    authKind: 'clientSecret',
    active: true,
    autoSync: true,
    hasSecret: true,
    createdAt: now,
    updatedAt: now,
    ...fields,
  });
}

/** Storage requests (Azurite is plain HTTP) made while `work` runs: the SDK sends each through http.request. */
async function storageCalls<T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const spy = jest.spyOn(http, 'request');
  try {
    const result = await work();
    return { result, calls: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

function lastRun(run: RunRecord): LastRun {
  return lastRunSchema.parse(run);
}

describe('scheduled fan-out', () => {
  it('makes one message per active portal with automatic sync, and writes no run record for them', async () => {
    const s = await services();
    const at = new Date('2030-01-02T03:04:05.000Z');
    s.now = () => at;
    const on = await portal(s);
    const off = await portal(s, { autoSync: false });
    const inactive = await portal(s, { active: false });
    const result = await fanOutScheduledRuns(s);
    expect(result.messages).toEqual([
      { portalId: on.id, runId: expect.any(String), trigger: 'schedule', queuedAt: at.toISOString() },
    ]);
    expect(result.skipped).toEqual([]);
    expect(runMessageSchema.parse(result.messages[0])).toEqual(result.messages[0]);
    // The worker makes the run record from the message; the timer writes none.
    expect(await s.ledger.runs.list(on.id)).toEqual([]);
    expect(await s.ledger.runs.list(off.id)).toEqual([]);
    expect(await s.ledger.runs.list(inactive.id)).toEqual([]);
    // Run ids sort newest first, as those of queued runs do.
    const again = await fanOutScheduledRuns({ ...s, now: () => new Date(at.getTime() + 60_000) });
    expect(again.messages[0]!.runId < result.messages[0]!.runId).toBe(true);
  });

  it('makes the same few storage calls for 2 portals as for 40, and writes nothing', async () => {
    const small = await services();
    await Promise.all(Array.from({ length: 2 }, () => portal(small)));
    const large = await services();
    await Promise.all(Array.from({ length: 40 }, () => portal(large)));

    const counted: Record<string, number>[] = [];
    for (const s of [small, large]) {
      const before = { ...s.ledger.stats };
      const { result, calls } = await storageCalls(() => fanOutScheduledRuns(s));
      counted.push({
        messages: result.messages.length,
        calls,
        entitiesRead: s.ledger.stats.entitiesRead - before.entitiesRead,
        entitiesWritten: s.ledger.stats.entitiesWritten - before.entitiesWritten,
        transactions: s.ledger.stats.transactions - before.transactions,
      });
    }
    // One query for the portals (40 portals and their name rows fit one page); no lease, run or record reads.
    expect(counted).toEqual([
      { messages: 2, calls: 1, entitiesRead: 2, entitiesWritten: 0, transactions: 0 },
      { messages: 40, calls: 1, entitiesRead: 40, entitiesWritten: 0, transactions: 0 },
    ]);
  });

  it('skips a portal whose last run is still running or queued, and records the skip; a stale or finished one is queued', async () => {
    const s = await services();
    const now = Date.now();
    const staleAfterMs = 60 * 60_000;
    const running = {
      ...newQueuedRun('x', 'schedule', new Date(now - 5 * 60_000)),
      status: 'running' as const,
      startedAt: new Date(now - 1000).toISOString(),
    };
    const waiting = newQueuedRun('x', 'manual', new Date(now - 1000));
    const stale = { ...running, startedAt: new Date(now - staleAfterMs - 1000).toISOString() };
    // Queued long ago but started just now: its start is what counts.
    const startedLate = {
      ...newQueuedRun('x', 'schedule', new Date(now - 2 * staleAfterMs)),
      status: 'running' as const,
      startedAt: new Date(now - 1000).toISOString(),
    };
    const done = { ...running, status: 'succeeded' as const, endedAt: new Date(now).toISOString() };
    const busy = await portal(s, { lastRun: lastRun(running) });
    const queued = await portal(s, { lastRun: lastRun(waiting) });
    const late = await portal(s, { lastRun: lastRun(startedLate) });
    const old = await portal(s, { lastRun: lastRun(stale) });
    const finished = await portal(s, { lastRun: lastRun(done) });
    const fresh = await portal(s);

    const { result, calls } = await storageCalls(() => fanOutScheduledRuns(s, { staleAfterMs }));
    expect(result.messages.map((m) => m.portalId).sort()).toEqual([old.id, finished.id, fresh.id].sort());
    expect(result.skipped.map((run) => run.portalId).sort()).toEqual([busy.id, queued.id, late.id].sort());
    // The portal list, then one write per skipped portal (run records are partitioned by portal).
    expect(calls).toBe(1 + 3);

    const [skip] = await s.ledger.runs.list(busy.id);
    expect(skip).toMatchObject({
      status: 'skipped',
      trigger: 'schedule',
      skippedReason: `The previous run ${running.id} is still running.`,
      endedAt: expect.any(String),
    });
    expect((await s.ledger.runs.list(queued.id))[0]).toMatchObject({
      status: 'skipped',
      skippedReason: `The previous run ${waiting.id} is still queued.`,
    });
    for (const p of [old, finished, fresh]) expect(await s.ledger.runs.list(p.id)).toEqual([]);
    // The skip does not touch the portal: its last run is still the one in progress.
    expect((await s.ledger.portals.get(busy.id))?.lastRun).toMatchObject({ id: running.id, status: 'running' });
    // So the next fan-out skips it again, until the run is stale.
    expect((await fanOutScheduledRuns(s, { staleAfterMs })).skipped.map((run) => run.portalId)).toContain(busy.id);
    const later = await fanOutScheduledRuns({ ...s, now: () => new Date(now + staleAfterMs) }, { staleAfterMs });
    expect(later.messages.map((m) => m.portalId)).toEqual(expect.arrayContaining([busy.id, queued.id, late.id]));
  });

  it('decides from the portal record alone: a lease or an older queued run record is not read', async () => {
    const s = await services();
    const p = await portal(s);
    await s.ledger.leases.acquire(p.id, 'orphaned-lease', 60_000);
    await s.ledger.runs.create(newQueuedRun(p.id, 'manual', new Date()));
    const { result, calls } = await storageCalls(() => fanOutScheduledRuns(s));
    expect(result.messages.map((m) => m.portalId)).toEqual([p.id]);
    expect(calls).toBe(1);
  });
});

describe('sync now', () => {
  it('records a queued run and sends its message', async () => {
    const s = await services();
    const p = await portal(s);
    const run = await queueRun(s, p.id, 'manual');
    expect(run).toMatchObject({ portalId: p.id, status: 'queued', trigger: 'manual' });
    expect(s.sent).toEqual([{ portalId: p.id, runId: run.id, trigger: 'manual' }]);
    expect(await s.ledger.runs.get(p.id, run.id)).toMatchObject({ status: 'queued' });
  });

  it('refuses an unknown or a deactivated portal', async () => {
    const s = await services();
    await expect(queueRun(s, 'nope')).rejects.toMatchObject({ code: 'portal_not_found' });
    const p = await portal(s, { active: false });
    const error = await queueRun(s, p.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'portal_inactive' });
    expect(s.sent).toEqual([]);
  });

  it('marks the run failed when the message cannot be sent', async () => {
    const s = await services();
    s.runQueue = {
      send: async () => {
        throw new Error('queue down');
      },
    };
    const p = await portal(s);
    await expect(queueRun(s, p.id)).rejects.toMatchObject({ code: 'storage_error', transient: true });
    const [run] = await s.ledger.runs.list(p.id);
    expect(run).toMatchObject({ status: 'failed', errorCode: 'storage_error' });
  });
});

describe('poisoned run messages', () => {
  it('mark the run failed with its last recorded error and say it gave up', async () => {
    const s = await services();
    const p = await portal(s);
    const run = {
      ...newQueuedRun(p.id, 'schedule', new Date()),
      status: 'running' as const,
      attempts: 5,
      errorCode: 'throttled',
      errorMessage: 'Microsoft Graph kept throttling.',
    };
    await s.ledger.runs.create(run);
    const failed = await failPoisonedRun(s, { portalId: p.id, runId: run.id, trigger: 'schedule' }, 5);
    expect(failed).toMatchObject({
      status: 'failed',
      errorCode: 'throttled',
      errorMessage: 'Microsoft Graph kept throttling. (gave up after 5 attempts)',
    });
    expect(await s.ledger.runs.get(p.id, run.id)).toMatchObject({ status: 'failed', endedAt: expect.any(String) });
    expect((await s.ledger.portals.get(p.id))?.lastRun).toMatchObject({ id: run.id, status: 'failed' });
  });

  it('explain a run that never recorded an error', async () => {
    const s = await services();
    const p = await portal(s);
    const run = newQueuedRun(p.id, 'manual', new Date());
    await s.ledger.runs.create(run);
    const failed = await failPoisonedRun(s, { portalId: p.id, runId: run.id, trigger: 'manual' }, 5);
    expect(failed).toMatchObject({
      status: 'failed',
      errorCode: 'internal_error',
      errorMessage: expect.stringMatching(/^The run gave up after 5 attempts/),
    });
  });

  it('record a scheduled run whose every attempt failed before its worker could record it', async () => {
    const s = await services();
    const p = await portal(s);
    const queuedAt = new Date(Date.now() - 60_000);
    const runId = newQueuedRun(p.id, 'schedule', queuedAt).id;
    const failed = await failPoisonedRun(
      s,
      { portalId: p.id, runId, trigger: 'schedule', queuedAt: queuedAt.toISOString() },
      5,
    );
    expect(failed).toMatchObject({
      id: runId,
      status: 'failed',
      queuedAt: queuedAt.toISOString(),
      errorMessage: expect.stringMatching(/gave up after 5 attempts/),
    });
    expect(await s.ledger.runs.get(p.id, runId)).toMatchObject({ status: 'failed' });
    expect((await s.ledger.portals.get(p.id))?.lastRun).toMatchObject({ id: runId, status: 'failed' });
    // A message of a portal that is gone is dropped, not recorded.
    expect(
      await failPoisonedRun(
        s,
        { portalId: 'no-such-portal', runId, trigger: 'schedule', queuedAt: queuedAt.toISOString() },
        5,
      ),
    ).toBeUndefined();
  });

  it('leave a finished run alone', async () => {
    const s = await services();
    const p = await portal(s);
    const run = { ...newQueuedRun(p.id, 'manual', new Date()), status: 'succeeded' as const };
    await s.ledger.runs.create(run);
    await failPoisonedRun(s, { portalId: p.id, runId: run.id, trigger: 'manual' }, 5);
    expect(await s.ledger.runs.get(p.id, run.id)).toMatchObject({ status: 'succeeded' });
  });
});
