import { createHmac, randomUUID } from 'node:crypto';
import { InvocationContext, type Timer } from '@azure/functions';
import { alertsDaily } from '../../functions/alerts';
import { QueueListener } from '../../src/local/queueListener';
import { startSimulator, type SimTenant, type Simulator } from '../../src/local/simulator';
import { skuIdOf } from '../../src/local/simulator/ids';
import { createChannel } from '../../src/notify/channels';
import { deliver } from '../../src/notify/deliveries';
import { evaluateDaily } from '../../src/notify/evaluateAlerts';
import { deliveryMessageSchema, type AlertRecord } from '../../src/domain/alerts';
import type { PortalRecord } from '../../src/domain/records';
import type { TableLedger } from '../../src/ledger';
import { newQueuedRun } from '../../src/domain/runs';
import { getQueueClient } from '../../src/storage/clients';
import { runSync } from '../../src/sync/runSync';
import { expectNoSecrets, startApi, type ApiHarness } from '../api/harness';
import { startWebhookReceiver, type Received, type WebhookReceiver } from '../fakes/webhookReceiver';
import { testTls } from '../support/env';

/**
 * Alerts end to end: runs of a simulated tenant through the real sync, the rules and channels through the HTTP
 * functions, deliveries through the notification queue in Azurite (polled by the local host's queue listener,
 * with its retries) to an HTTPS receiver and to the simulated Graph's sendMail.
 */

const APP = { clientId: randomUUID(), clientSecret: `cs-${randomUUID()}` };
const SIGNING_SECRET = `whsec-${randomUUID()}`;
const E3 = skuIdOf('ENTERPRISEPACK');
const E1 = skuIdOf('STANDARDPACK');
const MAX_ATTEMPTS = 3;

let sim: Simulator;
let tenant: SimTenant;
let api: ApiHarness;
let receiver: WebhookReceiver;
let listener: QueueListener;
let portal: PortalRecord;
let webhookId: string;

/** What a receiver does with a delivery: check the signature over the raw body (README's snippet). */
function verified(request: Received, secret: string): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`;
  return request.headers['x-license-sync-signature'] === expected;
}

const events = (path = '/hook') =>
  receiver.received
    .filter((r) => r.path === path)
    .map((r) => JSON.parse(r.body) as { event: string; alert: { id: string; rule: string; details: object } });

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the notification queue is empty and nothing is being delivered. */
async function settled(): Promise<void> {
  const queue = await getQueueClient({ storage: api.settings.storage, queueName: api.settings.notificationQueueName });
  await until('the notification queue to drain', async () => {
    listener.wake();
    const props = await queue.getProperties();
    return (props.approximateMessagesCount ?? 0) === 0 && listener.busy === 0;
  });
}

async function sync(): Promise<string> {
  const run = newQueuedRun(portal.id, 'manual', new Date());
  await api.services.ledger.runs.create(run);
  const done = await runSync(
    api.services,
    { portalId: portal.id, runId: run.id, trigger: 'manual' },
    { dequeueCount: 1, maxDequeueCount: 1 },
  );
  await settled();
  return done.status;
}

async function openAlerts() {
  const { body } = await api.call('alertsList', { query: `?portalId=${portal.id}` });
  return body.items as {
    id: string;
    rule: string;
    severity: string;
    licenseId?: string;
    details: Record<string, unknown>;
  }[];
}

beforeAll(async () => {
  sim = await startSimulator(testTls());
  tenant = sim.addTenant({
    apps: [{ ...APP, permissions: ['Organization.Read.All', 'User.Read.All', 'Mail.Send'] }],
    plans: [
      { skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 10 }] },
      { skuPartNumber: 'STANDARDPACK', subscriptions: [{ units: 2 }] },
      { skuPartNumber: 'POWER_BI_PRO', subscriptions: [{ units: 50, nextLifecycleDateTime: inDays(10) }] },
    ],
    users: [
      ...Array.from({ length: 9 }, (_, i) => ({
        displayName: `E3 user ${i}`,
        userPrincipalName: `e3.${i}@contoso-alerts.example`,
        licenses: [{ sku: 'ENTERPRISEPACK' }],
      })),
      ...Array.from({ length: 3 }, (_, i) => ({
        displayName: `E1 user ${i}`,
        userPrincipalName: `e1.${i}@contoso-alerts.example`,
        licenses: [{ sku: 'STANDARDPACK' }],
      })),
      {
        displayName: 'Emily Braun',
        userPrincipalName: 'emily@contoso-alerts.example',
        // Held through a group whose assignment reports an error (it still applies, with issues).
        licenses: [
          {
            sku: 'POWER_BI_PRO',
            groups: [{ groupId: randomUUID(), state: 'ActiveWithSolutionIssues', error: 'DependencyViolation' }],
          },
        ],
      },
      { displayName: 'Alerts mailbox', userPrincipalName: 'alerts@contoso-alerts.example' },
    ],
  });
  receiver = await startWebhookReceiver();
  api = await startApi({
    authorityHostOverride: sim.authorityHost,
    graphEndpointOverride: sim.graphEndpoint,
    skuNamesUrl: 'http://127.0.0.1:9/names.csv',
  });
  api.settings.alerts.allowPrivateWebhooks = true;
  const now = new Date().toISOString();
  portal = await api.services.ledger.portals.create({
    id: randomUUID(),
    name: 'Contoso alerts',
    tenantId: tenant.tenantId,
    clientId: APP.clientId,
    cloud: 'global',
    authKind: 'clientSecret',
    active: true,
    autoSync: true,
    hasSecret: true,
    createdAt: now,
    updatedAt: now,
  });
  await api.services.secrets.set(portal.id, { kind: 'clientSecret', clientSecret: APP.clientSecret });
  api.settings.alerts.mailPortalId = portal.id;
  api.settings.alerts.mailFrom = 'alerts@contoso-alerts.example';
  const settings = api.settings;
  listener = new QueueListener({
    functionName: 'notificationDelivery',
    queue: await getQueueClient({ storage: settings.storage, queueName: settings.notificationQueueName }),
    poisonQueue: () =>
      getQueueClient({ storage: settings.storage, queueName: `${settings.notificationQueueName}-poison` }),
    settings: {
      batchSize: 4,
      newBatchThreshold: 2,
      maxDequeueCount: MAX_ATTEMPTS,
      visibilityTimeoutMs: 0,
      maxPollingIntervalMs: 200,
      messageEncoding: 'base64',
    },
    messageLeaseMs: 30_000,
    invoke: async (message, metadata) => {
      await deliver(api.services, deliveryMessageSchema.parse(message), {
        dequeueCount: metadata.dequeueCount,
        maxDequeueCount: MAX_ATTEMPTS,
      });
    },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  listener.start();
  const created = await api.call('channelsCreate', {
    body: { kind: 'webhook', name: 'Ops hook', url: `${receiver.url}/hook`, signingSecret: SIGNING_SECRET },
  });
  expect(created.status).toBe(201);
  webhookId = created.body.id;
});

afterAll(async () => {
  await listener?.stop(1000);
  await receiver?.close();
  await sim?.close();
});

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

describe('alerts from the runs of a portal', () => {
  test('are raised once across identical runs, each notified once with a signature the receiver verifies', async () => {
    expect(await sync()).toBe('succeeded');
    expect(await sync()).toBe('succeeded');
    const alerts = await openAlerts();
    expect(alerts.map((a) => [a.rule, a.licenseId]).sort()).toEqual(
      [
        ['assignmentErrors', `${portal.id}.${skuIdOf('POWER_BI_PRO')}`],
        // Its subscription renews in 10 days (the run records renewals).
        ['expiring', `${portal.id}.${skuIdOf('POWER_BI_PRO')}`],
        ['lowStock', `${portal.id}.${E3}`],
        ['overAssigned', `${portal.id}.${E1}`],
        // 50 seats renewing in 10 days for one holder: 48 to cut (one active holder plus a buffer of one).
        ['rightSize', `${portal.id}.${skuIdOf('POWER_BI_PRO')}`],
      ].sort(),
    );
    const raised = events().filter((e) => e.event === 'alert.raised');
    expect(raised.map((e) => e.alert.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    for (const request of receiver.received) expect(verified(request, SIGNING_SECRET)).toBe(true);
    expect(new Set(receiver.received.map((r) => r.headers['x-license-sync-delivery'])).size).toBe(5);
    const channels = await api.call('channelsList');
    expect(channels.body.items[0]).toMatchObject({ id: webhookId, hasUrl: true, hasSigningSecret: true });
    expect(channels.body.items[0].lastDeliveryAt).toBeDefined();
    expectNoSecrets({ bodies: api.bodies, logs: api.logs }, [SIGNING_SECRET, receiver.url]);
  });

  test('an alert that still holds with other figures is updated without a new notification', async () => {
    const before = (await openAlerts()).find((a) => a.rule === 'lowStock')!;
    expect(before.details.free).toBe(1);
    tenant.addUser({
      displayName: 'One more E3 user',
      userPrincipalName: 'e3.more@contoso-alerts.example',
      licenses: [{ sku: 'ENTERPRISEPACK' }],
    });
    const sent = receiver.received.length;
    await sync();
    const after = (await openAlerts()).find((a) => a.rule === 'lowStock')!;
    expect(after).toMatchObject({ id: before.id, details: { free: 0 } });
    expect(receiver.received).toHaveLength(sent);
  });

  test('an alert resolves when its condition clears and a new one is raised when it comes back', async () => {
    const first = (await openAlerts()).find((a) => a.rule === 'lowStock')!;
    tenant.updatePlan('ENTERPRISEPACK', { subscriptions: [{ units: 40 }] });
    await sync();
    expect((await openAlerts()).some((a) => a.rule === 'lowStock')).toBe(false);
    expect(events().at(-1)).toMatchObject({ event: 'alert.resolved', alert: { id: first.id, state: 'resolved' } });
    tenant.updatePlan('ENTERPRISEPACK', { subscriptions: [{ units: 10 }] });
    await sync();
    const again = (await openAlerts()).find((a) => a.rule === 'lowStock')!;
    expect(again.id).not.toBe(first.id);
    expect(events().at(-1)).toMatchObject({ event: 'alert.raised', alert: { id: again.id } });
    const resolved = await api.call('alertsList', { query: '?state=resolved' });
    expect(resolved.body.items.map((a: { id: string }) => a.id)).toContain(first.id);
  });

  test('three failed runs in a row raise runFailures; the failed runs leave the license alerts alone', async () => {
    const licenseAlerts = (await openAlerts()).map((a) => a.id).sort();
    tenant.updateApp(APP.clientId, { clientSecret: 'rotated-away' });
    for (let i = 0; i < 2; i += 1) expect(await sync()).toBe('failed');
    expect((await openAlerts()).some((a) => a.rule === 'runFailures')).toBe(false);
    expect(await sync()).toBe('failed');
    const alerts = await openAlerts();
    const failing = alerts.find((a) => a.rule === 'runFailures')!;
    expect(failing).toMatchObject({ details: { consecutiveFailures: 3, errorCode: 'invalid_client_secret' } });
    expect(
      alerts
        .filter((a) => a.rule !== 'runFailures')
        .map((a) => a.id)
        .sort(),
    ).toEqual(licenseAlerts);
    tenant.updateApp(APP.clientId, { clientSecret: APP.clientSecret });
    expect(await sync()).toBe('succeeded');
    expect((await openAlerts()).some((a) => a.rule === 'runFailures')).toBe(false);
  });

  test('a group license out of seats (CountViolation) raises assignmentErrors on its license until the user goes', async () => {
    const newcomer = tenant.addUser({
      displayName: 'Sales newcomer',
      userPrincipalName: 'sales.new@contoso-alerts.example',
      licenses: [{ sku: 'ENTERPRISEPACK', groups: [{ groupId: randomUUID(), error: 'CountViolation' }] }],
    });
    const from = events().length;
    expect(await sync()).toBe('succeeded');
    const license = await api.services.ledger.licenses.get(`${portal.id}.${E3}`);
    expect(license?.failedAssignments).toBe(1);
    const failed = (await openAlerts()).find((a) => a.rule === 'assignmentErrors' && a.licenseId === license?.id);
    expect(failed).toMatchObject({ severity: 'critical', details: { assignmentErrors: 1, failedAssignments: 1 } });
    expect(events().slice(from)).toEqual([
      expect.objectContaining({ event: 'alert.raised', alert: expect.objectContaining({ id: failed!.id }) }),
    ]);
    tenant.removeUser(newcomer);
    expect(await sync()).toBe('succeeded');
    expect((await api.services.ledger.licenses.get(license!.id))?.failedAssignments).toBeUndefined();
    expect((await openAlerts()).some((a) => a.id === failed!.id)).toBe(false);
    expect(events().at(-1)).toMatchObject({ event: 'alert.resolved', alert: { id: failed!.id } });
  });
});

describe('rightSize', () => {
  const PBI = () => `${portal.id}.${skuIdOf('POWER_BI_PRO')}`;
  const rightSize = async () => (await openAlerts()).filter((a) => a.rule === 'rightSize');
  const sent = (event: string) => events().filter((e) => e.event === event && e.alert.rule === 'rightSize');

  test('one alert per subscription, raised once across runs and daily passes, resolved when the tenant cuts seats', async () => {
    const [alert, ...more] = await rightSize();
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      licenseId: PBI(),
      details: { totalLicenses: 50, recommendedSeats: 2, seatsToCut: 48, subscriptionId: expect.any(String) },
    });
    await sync();
    await evaluateDaily(api.services);
    await settled();
    expect((await rightSize()).map((a) => a.id)).toEqual([alert!.id]);
    expect(sent('alert.raised').map((e) => e.alert.id)).toEqual([alert!.id]);

    // The admin lowers the subscription to what its holders need: the next run resolves the alert, notified.
    tenant.updatePlan('POWER_BI_PRO', { subscriptions: [{ units: 2, nextLifecycleDateTime: inDays(10) }] });
    await sync();
    expect(await rightSize()).toEqual([]);
    expect(sent('alert.resolved').map((e) => e.alert.id)).toEqual([alert!.id]);
  });

  test('an alert whose renewal date passes is resolved by the daily pass', async () => {
    tenant.updatePlan('POWER_BI_PRO', { subscriptions: [{ units: 50, nextLifecycleDateTime: inDays(10) }] });
    await sync();
    const [again] = await rightSize();
    expect(again).toBeDefined();
    const later = new Date(Date.now() + 11 * 86_400_000);
    await evaluateDaily({ ...api.services, now: () => later });
    await settled();
    expect(await rightSize()).toEqual([]);
    expect(sent('alert.resolved').at(-1)!.alert.id).toBe(again!.id);
    // The daily pass of the real date raises it again: the tenant still has the 50 seats renewing in 10 days.
    await evaluateDaily(api.services);
    expect(await rightSize()).toHaveLength(1);
  });

  test('a subscription that will not renew raises none: suspended, its alert resolves; a trial raises none', async () => {
    const renewal = async () =>
      (await api.call('insightsRenewals', { query: `?portalId=${portal.id}` })).body.items.find(
        (i: { licenseId: string }) => i.licenseId === PBI(),
      );
    const [open] = await rightSize();
    expect(open).toBeDefined();
    // Not renewed: Microsoft suspends it. Its 50 seats are still listed (all of them go at its date), no alert.
    tenant.updatePlan('POWER_BI_PRO', {
      subscriptions: [{ units: 50, status: 'Suspended', nextLifecycleDateTime: inDays(10) }],
    });
    await sync();
    expect(await renewal()).toMatchObject({ totalLicenses: 50, recommendedSeats: 0, seatsToCut: 50 });
    expect(await rightSize()).toEqual([]);
    expect(sent('alert.resolved').at(-1)!.alert.id).toBe(open!.id);

    // A trial's seats cost nothing and end with it: nothing to cut before a renewal, after a run or in the daily pass.
    tenant.updatePlan('POWER_BI_PRO', {
      subscriptions: [{ units: 50, isTrial: true, nextLifecycleDateTime: inDays(10) }],
    });
    await sync();
    await evaluateDaily(api.services);
    await settled();
    expect((await renewal())?.seatsToCut).toBe(50);
    expect(await rightSize()).toEqual([]);

    // Back to the paid subscription of the tests before: the alert is raised again.
    tenant.updatePlan('POWER_BI_PRO', { subscriptions: [{ units: 50, nextLifecycleDateTime: inDays(10) }] });
    await sync();
    expect(await rightSize()).toHaveLength(1);
  });
});

describe('the rules document', () => {
  test('PUT replaces it: a left-out rule takes its default, an unknown key is a 400', async () => {
    const bad = await api.call('alertRulesPut', { body: { lowStok: { enabled: false } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual([{ in: 'body', path: 'lowStok', message: 'is not a known field' }]);
    const put = await api.call('alertRulesPut', { body: { lowStock: { minFree: 3 } } });
    expect(put.status).toBe(200);
    expect(put.body.lowStock).toEqual({ enabled: true, minFree: 3, minFreePercent: 5 });
    expect(put.body.runFailures).toEqual({ enabled: true, consecutive: 3 });
    const got = await api.call('alertRulesGet');
    expect(got.body.lowStock.minFree).toBe(3);
    const audit = await api.call('auditList');
    expect(audit.body.items[0]).toMatchObject({ action: 'alertRules.replace', target: 'alerts/rules' });
    // Every rule has its data now: none says it stays inactive.
    expect(got.body.unavailable).toEqual({});
  });

  test('an exclusion added resolves the open alerts it covers, and keeps them from coming back', async () => {
    const overAssigned = (await openAlerts()).find((a) => a.rule === 'overAssigned')!;
    await api.call('alertRulesPut', { body: { exclude: { skuIds: [E1] } } });
    expect((await openAlerts()).some((a) => a.rule === 'overAssigned')).toBe(false);
    await settled();
    expect(events().at(-1)).toMatchObject({ event: 'alert.resolved', alert: { id: overAssigned.id } });
    await sync();
    expect((await openAlerts()).some((a) => a.rule === 'overAssigned')).toBe(false);
  });

  test('a rule changed between two runs over unchanged data takes effect at the next run; an unchanged run after it looks at nothing', async () => {
    await sync();
    const powerBi = `${portal.id}.${skuIdOf('POWER_BI_PRO')}`;
    expect((await openAlerts()).some((a) => a.rule === 'lowStock' && a.licenseId === powerBi)).toBe(false);
    // Power BI Pro: 50 seats, 1 held, 49 free. Nothing in the tenant changes; only the rules do.
    await api.call('alertRulesPut', { body: { exclude: { skuIds: [E1] }, lowStock: { minFree: 60 } } });
    // The harness's ledger is the Table Storage one, which counts its requests.
    const { stats } = api.services.ledger as TableLedger;
    const requests = async () => {
      const before = stats.requests;
      await sync();
      return stats.requests - before;
    };
    await sync();
    expect((await openAlerts()).find((a) => a.rule === 'lowStock' && a.licenseId === powerBi)).toMatchObject({
      details: { free: 49 },
    });
    // Without its digest the portal is evaluated again, although nothing changed: what a skipped one saves.
    await api.services.ledger.portals.modify(portal.id, (current) => ({ ...current, alertsDigest: undefined }));
    const evaluated = await requests();
    // Same data, same rules, the run before succeeded: the portal, its licenses, its holders' errors and the
    // open alerts are not read again (the rules are, to see they are the same).
    const skipped = await requests();
    expect(evaluated - skipped).toBeGreaterThanOrEqual(4);
    expect((await openAlerts()).some((a) => a.rule === 'lowStock' && a.licenseId === powerBi)).toBe(true);
    await api.call('alertRulesPut', { body: { exclude: { skuIds: [E1] } } });
    await sync();
    expect((await openAlerts()).some((a) => a.rule === 'lowStock' && a.licenseId === powerBi)).toBe(false);
  });

  test('alerts page with ?limit and ?continuationToken', async () => {
    const first = await api.call('alertsList', { query: '?state=all&limit=1' });
    expect(first.body.items).toHaveLength(1);
    expect(first.body.continuationToken).toEqual(expect.any(String));
    const next = await api.call('alertsList', {
      query: `?state=all&limit=1&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
    });
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(first.body.items[0].id);
    const all = await api.call('alertsList', { query: '?state=all' });
    const csv = await api.call('alertsList', { query: '?state=all&format=csv' });
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toContain('id,rule,portalId');
    expect(lines).toHaveLength(all.body.items.length + 1);
  });
});

describe('deliveries', () => {
  test('a receiver error is retried with the same delivery id, then delivered', async () => {
    receiver.script({ status: 500 });
    const from = receiver.received.length;
    const outcome = await api.call('channelsTest', { params: { id: webhookId } });
    expect(outcome.body).toMatchObject({ ok: false, status: 500 });
    // The queue's retries: an alert event after a receiver error.
    receiver.script({ status: 503 });
    tenant.updatePlan('ENTERPRISEPACK', { subscriptions: [{ units: 40 }] });
    await sync();
    const attempts = receiver.received.slice(from + 1);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.headers['x-license-sync-delivery']).toBe(attempts[1]!.headers['x-license-sync-delivery']);
    expect(attempts[0]!.body).toBe(attempts[1]!.body);
    const [channel] = (await api.call('channelsList')).body.items;
    expect(channel.lastError).toBeUndefined();
  });

  test('a delivery that fails every attempt is marked failed and shown on its channel', async () => {
    receiver.script(...Array.from({ length: MAX_ATTEMPTS }, () => ({ status: 500 })));
    tenant.updatePlan('ENTERPRISEPACK', { subscriptions: [{ units: 10 }] });
    await sync();
    const [channel] = (await api.call('channelsList')).body.items;
    expect(channel.lastError).toBe('The receiver answered 500.');
    const failed = await api.services.ledger.deliveries.listFailed(webhookId, 10);
    expect(failed[0]).toMatchObject({ state: 'failed', attempts: MAX_ATTEMPTS, event: 'alert.raised' });
    expect(api.logs.some((line) => line.includes('notification delivery failed'))).toBe(true);
  });

  test('Teams gets an Adaptive Card and e-mail goes through Graph sendMail from the operator mailbox', async () => {
    const teams = await api.call('channelsCreate', {
      body: { kind: 'teams', name: 'Teams', url: `${receiver.url}/teams` },
    });
    const mail = await api.call('channelsCreate', {
      body: { kind: 'email', name: 'Ops mail', to: ['ops@example.com'] },
    });
    expect((await api.call('channelsTest', { params: { id: teams.body.id } })).body).toMatchObject({ ok: true });
    expect((await api.call('channelsTest', { params: { id: mail.body.id } })).body).toMatchObject({ ok: true });
    const card = JSON.parse(receiver.received.at(-1)!.body);
    expect(card.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.attachments[0].content.actions[0].url).toBe(`${api.settings.federation.publicUrl}/#/alerts`);
    expect(tenant.sentMail.at(-1)).toMatchObject({
      from: 'alerts@contoso-alerts.example',
      message: { toRecipients: [{ emailAddress: { address: 'ops@example.com' } }] },
    });
    expect(receiver.received.at(-1)!.headers).not.toHaveProperty('x-license-sync-signature');
    expect((await api.call('channelsDelete', { params: { id: teams.body.id } })).status).toBe(204);
    const audit = (await api.call('auditList')).body.items as { action: string; target: string; summary: string }[];
    expect(audit.slice(0, 3).map((entry) => [entry.action, entry.target])).toEqual([
      ['channel.delete', `notifications/channels/${teams.body.id}`],
      ['channel.create', `notifications/channels/${mail.body.id}`],
      ['channel.create', `notifications/channels/${teams.body.id}`],
    ]);
    expect((await api.call('channelsDelete', { params: { id: teams.body.id } })).status).toBe(404);
    await api.call('channelsDelete', { params: { id: mail.body.id } });
  });
});

describe('channel URLs', () => {
  test('are refused with the reason when not https, or (private addresses not allowed) loopback, metadata or private', async () => {
    const http = await api.call('channelsCreate', {
      body: { kind: 'webhook', name: 'Plain', url: 'http://example.com/h' },
    });
    expect(http.status).toBe(400);
    expect(http.body.error).toMatchObject({ code: 'channel_url_refused' });
    expect(http.body.error.message).toContain('https');
    const strict = {
      ...api.services,
      settings: { ...api.settings, alerts: { ...api.settings.alerts, allowPrivateWebhooks: false } },
      resolveHost: async (name: string) =>
        name === 'hooks.internal.example' ? [{ address: '10.0.0.1', family: 4 }] : [],
    };
    for (const url of ['https://127.0.0.1/h', 'https://169.254.169.254/latest', 'https://hooks.internal.example/h']) {
      await expect(createChannel(strict, { kind: 'webhook', name: 'Inner', url })).rejects.toMatchObject({
        code: 'channel_url_refused',
      });
    }
    await expect(
      createChannel(strict, { kind: 'webhook', name: 'Inner', url: 'https://hooks.internal.example/h' }),
    ).rejects.toThrow(/10\.0\.0\.1/);
    expect((await api.call('channelsList')).body.items).toHaveLength(1);
  });
});

/** The timer function as the host calls it once a day. */
async function daily(): Promise<void> {
  const timer: Timer = {
    isPastDue: false,
    schedule: { adjustForDST: false },
    scheduleStatus: { last: '', next: '', lastUpdated: '' },
  };
  await alertsDaily.handler(timer, new InvocationContext({ functionName: 'alertsDaily' }));
  await settled();
}

function monthsAgo(months: number): Date {
  const at = new Date();
  at.setUTCMonth(at.getUTCMonth() - months);
  return at;
}

describe('the daily pass (timer alertsDaily)', () => {
  test('raises stale for an active auto-sync portal without a successful run for 24 hours, once; a successful run resolves it', async () => {
    const lastSuccessAt = new Date(Date.now() - 30 * 3_600_000).toISOString();
    await api.services.ledger.portals.modify(portal.id, (current) => ({ ...current, lastSuccessAt }));
    const longAgo = new Date(Date.now() - 72 * 3_600_000).toISOString();
    const paused = await api.services.ledger.portals.create({
      ...portal,
      id: randomUUID(),
      name: 'Contoso paused',
      active: false,
      lastSuccessAt: undefined,
      createdAt: longAgo,
      updatedAt: longAgo,
    });
    const from = events().length;
    await daily();
    const stale = (await openAlerts()).find((a) => a.rule === 'stale')!;
    expect(stale).toMatchObject({ severity: 'critical', details: { hours: 24, lastSuccessAt } });
    const all = await api.call('alertsList', { query: '?state=open' });
    expect(all.body.items.filter((a: { rule: string }) => a.rule === 'stale')).toHaveLength(1);
    await daily();
    expect(events().slice(from)).toEqual([
      expect.objectContaining({ event: 'alert.raised', alert: expect.objectContaining({ id: stale.id }) }),
    ]);
    expect(await sync()).toBe('succeeded');
    expect((await openAlerts()).some((a) => a.rule === 'stale')).toBe(false);
    expect(events().at(-1)).toMatchObject({ event: 'alert.resolved', alert: { id: stale.id } });
    await api.services.ledger.portals.delete(paused.id);
  });

  test('deletes alerts resolved over 13 months ago and snapshots over 25 months old, and keeps the newer ones', async () => {
    const resolvedAlert = async (months: number) => {
      const at = monthsAgo(months).toISOString();
      const alert: AlertRecord = {
        id: randomUUID(),
        rule: 'lowStock',
        subject: `${portal.id}/retention-${months}`,
        portalId: portal.id,
        state: 'open',
        severity: 'warning',
        message: `resolved ${months} months ago`,
        details: {},
        raisedAt: at,
        updatedAt: at,
      };
      await api.services.ledger.alerts.open(alert);
      return (await api.services.ledger.alerts.resolve(alert, at)).id;
    };
    const expired = await resolvedAlert(14);
    const kept = await resolvedAlert(12);
    const day = (months: number) => monthsAgo(months).toISOString().slice(0, 10);
    for (const months of [26, 24]) {
      const date = day(months);
      const snapshot = { date, available: 10, consumedUnits: 9, assigned: 9, warning: 0, suspended: 0 };
      await api.services.ledger.history.putDay(portal.id, [{ skuId: E3, ...snapshot }], { date, licensedUsers: 9 });
    }
    await daily();
    const resolved = await api.call('alertsList', { query: `?state=resolved&portalId=${portal.id}&limit=500` });
    const ids = resolved.body.items.map((a: { id: string }) => a.id);
    expect(ids).toContain(kept);
    expect(ids).not.toContain(expired);
    const history = await api.services.ledger.history.licenseHistory(portal.id, E3, day(30), day(0));
    expect(history.map((s) => s.date)).toContain(day(24));
    expect(history.map((s) => s.date)).not.toContain(day(26));
    expect((await api.services.ledger.history.portalHistory(portal.id, day(30), day(20))).map((s) => s.date)).toEqual([
      day(24),
    ]);
  });
});
