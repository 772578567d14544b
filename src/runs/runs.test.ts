import type { Services } from '../app/services';
import { AppError } from '../domain/errors';
import type { PortalRecord } from '../domain/records';
import { createLedger } from '../ledger';
import { newQueuedRun } from '../sync/runSync';
import { testSettings } from '../../test/support/env';
import { queueRun } from './enqueue';
import { fanOutScheduledRuns } from './fanout';
import type { RunMessage } from './message';
import { failPoisonedRun } from './poison';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function services(): Promise<Services & { sent: RunMessage[] }> {
  const settings = testSettings();
  const sent: RunMessage[] = [];
  return {
    settings,
    ledger: await createLedger(settings),
    secrets: { set: async () => undefined, get: async () => undefined, delete: async () => undefined },
    planNames: async () => ({ displayName: (_id, part) => part }),
    openTenant: () => { throw new Error('no tenant in these tests'); },
    runQueue: { send: async (message) => { sent.push(message); } },
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
    id: `portal${counter}-${Date.now()}`, name: `Portal ${counter} ${Date.now()}`, tenantId: 'contoso.onmicrosoft.com',
    clientId: '00000000-0000-0000-0000-000000000001', cloud: 'global', authKind: 'clientSecret', active: true, autoSync: true,
    hasSecret: true, createdAt: now, updatedAt: now, ...fields,
  });
}

describe('scheduled fan-out', () => {
  it('queues one run per active portal with automatic sync, and nothing for the others', async () => {
    const s = await services();
    const on = await portal(s);
    const off = await portal(s, { autoSync: false });
    const inactive = await portal(s, { active: false });
    const result = await fanOutScheduledRuns(s);
    expect(result.messages).toEqual([{ portalId: on.id, runId: result.queued[0]!.id, trigger: 'schedule' }]);
    const runs = await s.ledger.runs.list(on.id);
    expect(runs).toMatchObject([{ id: result.queued[0]!.id, status: 'queued', trigger: 'schedule' }]);
    expect(await s.ledger.runs.list(off.id)).toEqual([]);
    expect(await s.ledger.runs.list(inactive.id)).toEqual([]);
  });

  it('skips a portal whose previous run still holds the lease, and records the skip with its reason', async () => {
    const s = await services();
    const busy = await portal(s);
    await s.ledger.leases.acquire(busy.id, 'run-still-going', 60_000);
    const result = await fanOutScheduledRuns(s);
    expect(result.messages).toEqual([]);
    expect(result.skipped).toHaveLength(1);
    const [skip] = await s.ledger.runs.list(busy.id);
    expect(skip).toMatchObject({ status: 'skipped', trigger: 'schedule', skippedReason: expect.stringContaining('run-still-going') });
  });

  it('skips a portal whose previous run is still queued, until that run is stale', async () => {
    const s = await services();
    const waiting = await portal(s);
    const previous = newQueuedRun(waiting.id, 'schedule', new Date(Date.now() - 1000));
    await s.ledger.runs.create(previous);
    const first = await fanOutScheduledRuns(s);
    expect(first.skipped.map((run) => run.skippedReason)).toEqual([`The previous run ${previous.id} is still queued.`]);
    // The earlier skip does not hide the waiting run; a stale one no longer holds the portal back.
    const second = await fanOutScheduledRuns(s);
    expect(second.skipped).toHaveLength(1);
    const third = await fanOutScheduledRuns(s, { staleAfterMs: 500 });
    expect(third.messages).toHaveLength(1);
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
    s.runQueue = { send: async () => { throw new Error('queue down'); } };
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
    const run = { ...newQueuedRun(p.id, 'schedule', new Date()), status: 'running' as const, attempts: 5, errorCode: 'throttled', errorMessage: 'Microsoft Graph kept throttling.' };
    await s.ledger.runs.create(run);
    const failed = await failPoisonedRun(s, { portalId: p.id, runId: run.id, trigger: 'schedule' }, 5);
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'throttled', errorMessage: 'Microsoft Graph kept throttling. (gave up after 5 attempts)' });
    expect(await s.ledger.runs.get(p.id, run.id)).toMatchObject({ status: 'failed', endedAt: expect.any(String) });
    expect((await s.ledger.portals.get(p.id))?.lastRun).toMatchObject({ id: run.id, status: 'failed' });
  });

  it('explain a run that never recorded an error', async () => {
    const s = await services();
    const p = await portal(s);
    const run = newQueuedRun(p.id, 'manual', new Date());
    await s.ledger.runs.create(run);
    const failed = await failPoisonedRun(s, { portalId: p.id, runId: run.id, trigger: 'manual' }, 5);
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'internal_error', errorMessage: expect.stringMatching(/^The run gave up after 5 attempts/) });
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
