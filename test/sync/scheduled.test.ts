import { lastRunSchema, type PortalRecord, type RunRecord } from '../../src/domain/records';
import { fanOutScheduledRuns } from '../../src/runs/fanout';
import type { RunMessage } from '../../src/domain/runMessage';
import { newQueuedRun, newRunId } from '../../src/domain/runs';
import { runSync } from '../../src/sync/runSync';
import { startSyncHarness, tenantWithApp, type SyncHarness } from './harness';

/**
 * Scheduled runs from the timer to the worker, over real storage and the simulated tenant: the timer writes no
 * run record, the worker makes it from the message, and a backlog or an overlap never syncs a portal twice.
 */
let h: SyncHarness;
beforeAll(async () => {
  h = await startSyncHarness();
});
afterAll(async () => {
  await h.close();
});

let seed = 100;
async function addPortal(fields: Partial<PortalRecord> = {}): Promise<PortalRecord> {
  seed += 1;
  return h.addPortal(tenantWithApp(h.sim, { generated: { users: 6, plans: 2, seed } }), fields);
}

function scheduled(portal: PortalRecord, queuedAt: Date): RunMessage {
  return { portalId: portal.id, runId: newRunId(queuedAt), trigger: 'schedule', queuedAt: queuedAt.toISOString() };
}

function work(message: RunMessage, dequeueCount = 1): Promise<RunRecord> {
  return runSync(h.services, message, { dequeueCount, maxDequeueCount: 5 });
}

const portalOf = async (portal: PortalRecord) => (await h.services.ledger.portals.get(portal.id))!;

describe('scheduled runs', () => {
  test('the worker creates the run record of a scheduled message, with the time the timer queued it', async () => {
    const portal = await addPortal();
    const queuedAt = new Date(Date.now() - 30_000);
    const { messages } = await fanOutScheduledRuns({ ...h.services, now: () => queuedAt });
    const message = messages.find((m) => m.portalId === portal.id)!;
    expect(message).toEqual({
      portalId: portal.id,
      runId: expect.any(String),
      trigger: 'schedule',
      queuedAt: queuedAt.toISOString(),
    });
    expect(await h.services.ledger.runs.list(portal.id)).toEqual([]);

    const run = await work(message);
    expect(run).toMatchObject({
      id: message.runId,
      portalId: portal.id,
      status: 'succeeded',
      trigger: 'schedule',
      queuedAt: message.queuedAt,
      attempts: 1,
    });
    expect(run.counts).toMatchObject({ usersRead: 6, plansRead: 2 });
    expect(Date.parse(run.startedAt!)).toBeGreaterThan(queuedAt.getTime());
    expect(await h.services.ledger.runs.list(portal.id)).toEqual([
      expect.objectContaining({ id: message.runId, status: 'succeeded', queuedAt: message.queuedAt }),
    ]);
    expect((await portalOf(portal)).lastRun).toMatchObject({
      id: message.runId,
      status: 'succeeded',
      queuedAt: message.queuedAt,
    });

    // The same message delivered again finds its finished run and does nothing.
    const again = await work(message, 2);
    expect(again).toMatchObject({ id: message.runId, status: 'succeeded', attempts: 1 });
    expect(await h.services.ledger.runs.list(portal.id)).toHaveLength(1);
  });

  test('a scheduled run that fails transiently keeps the record it created, shows it retrying, and its retry completes it', async () => {
    const tenant = tenantWithApp(h.sim, { generated: { users: 250, plans: 1, seed: 77 } });
    const portal = await h.addPortal(tenant);
    const message = scheduled(portal, new Date(Date.now() - 1000));
    tenant.fail({ kind: 'reset', afterBytes: 500 }, { resource: 'users', times: Infinity });
    await expect(work(message, 1)).rejects.toMatchObject({ transient: true });
    expect(await h.services.ledger.runs.get(portal.id, message.runId)).toMatchObject({
      status: 'retrying',
      attempt: 2,
      maxAttempts: 5,
      queuedAt: message.queuedAt,
      errorCode: 'graph_unreachable',
    });

    tenant.clearFaults();
    const retried = await work(message, 2);
    expect(retried).toMatchObject({ id: message.runId, status: 'succeeded', attempts: 2, queuedAt: message.queuedAt });
    expect(await h.services.ledger.runs.list(portal.id)).toHaveLength(1);
  });

  test('a backlog of scheduled messages of one portal syncs it once', async () => {
    const portal = await addPortal();
    const first = scheduled(portal, new Date(Date.now() - 120_000));
    const second = scheduled(portal, new Date(Date.now() - 60_000));

    const ran = await work(first);
    expect(ran.status).toBe('succeeded');
    // The run of the first message started after the second was queued: it already read what the second would.
    const skipped = await work(second);
    expect(skipped).toMatchObject({
      id: second.runId,
      status: 'skipped',
      trigger: 'schedule',
      queuedAt: second.queuedAt,
      graphRequests: 0,
      skippedReason: 'A run that started after this one was queued has already synced this portal access.',
    });
    expect(skipped.endedAt).toEqual(expect.any(String));
    expect(await h.services.ledger.runs.get(portal.id, second.runId)).toMatchObject({
      status: 'skipped',
      queuedAt: second.queuedAt,
    });
    // The portal still shows the run that synced it.
    expect((await portalOf(portal)).lastRun).toMatchObject({ id: ran.id, status: 'succeeded' });

    // A message queued after that run started is not covered by it: it runs.
    const third = scheduled(portal, new Date());
    expect((await work(third)).status).toBe('succeeded');
    // Neither is a run somebody asked for (sync now).
    expect((await h.sync(portal)).status).toBe('succeeded');
  });

  test('a finished run that failed also covers the messages queued before it started; a skipped one does not', async () => {
    const portal = await addPortal();
    const queuedAt = new Date(Date.now() - 60_000);
    const startedAt = new Date(Date.now() - 30_000).toISOString();
    const failed: RunRecord = {
      ...newQueuedRun(portal.id, 'schedule', new Date(Date.now() - 90_000)),
      status: 'failed',
      startedAt,
      endedAt: startedAt,
      errorCode: 'consent_missing',
    };
    await h.services.ledger.portals.update({ ...(await portalOf(portal)), lastRun: lastRunSchema.parse(failed) });
    expect((await work(scheduled(portal, queuedAt))).status).toBe('skipped');

    const skippedBefore: RunRecord = {
      ...failed,
      status: 'skipped',
      skippedReason: 'The portal access is deactivated.',
    };
    await h.services.ledger.portals.update({
      ...(await portalOf(portal)),
      lastRun: lastRunSchema.parse(skippedBefore),
    });
    expect((await work(scheduled(portal, queuedAt))).status).toBe('succeeded');
  });

  test('an overlapping run is skipped without hiding the run in progress, so the next fan-out still skips the portal', async () => {
    const portal = await addPortal();
    const inProgress: RunRecord = {
      ...newQueuedRun(portal.id, 'manual', new Date(Date.now() - 5000)),
      status: 'running',
      startedAt: new Date(Date.now() - 4000).toISOString(),
      attempts: 1,
    };
    await h.services.ledger.runs.create(inProgress);
    await h.services.ledger.portals.update({ ...(await portalOf(portal)), lastRun: lastRunSchema.parse(inProgress) });
    expect(await h.services.ledger.leases.acquire(portal.id, inProgress.id, 60_000)).toBe(true);
    try {
      const message = scheduled(portal, new Date());
      const skipped = await work(message);
      expect(skipped).toMatchObject({
        id: message.runId,
        status: 'skipped',
        queuedAt: message.queuedAt,
        skippedReason: `Another run of this portal access was in progress (run ${inProgress.id}).`,
      });
      expect(await h.services.ledger.runs.get(portal.id, message.runId)).toMatchObject({ status: 'skipped' });
      expect((await portalOf(portal)).lastRun).toEqual(lastRunSchema.parse(inProgress));

      const next = await fanOutScheduledRuns(h.services);
      expect(next.messages.map((m) => m.portalId)).not.toContain(portal.id);
      expect(next.skipped.find((run) => run.portalId === portal.id)?.skippedReason).toBe(
        `The previous run ${inProgress.id} is still running.`,
      );
    } finally {
      await h.services.ledger.leases.release(portal.id, inProgress.id);
    }
  });

  test('a deactivated portal skips a scheduled message and says so on the portal', async () => {
    const portal = await addPortal({ active: false });
    const message = scheduled(portal, new Date(Date.now() - 1000));
    const run = await work(message);
    expect(run).toMatchObject({
      id: message.runId,
      status: 'skipped',
      skippedReason: 'The portal access is deactivated.',
      queuedAt: message.queuedAt,
    });
    expect(await h.services.ledger.runs.get(portal.id, message.runId)).toMatchObject({ status: 'skipped' });
    expect((await portalOf(portal)).lastRun).toMatchObject({ id: message.runId, status: 'skipped' });
  });

  test('a message of a portal that no longer exists fails without leaving a run record behind', async () => {
    const portal = await addPortal();
    await h.services.ledger.portals.delete(portal.id);
    const message = scheduled(portal, new Date());
    expect(await work(message)).toMatchObject({ status: 'failed', errorCode: 'portal_not_found' });
    expect(await h.services.ledger.runs.list(portal.id)).toEqual([]);
  });
});
