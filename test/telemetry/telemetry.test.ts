import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_ROLE, encodeClientPrincipal } from '../../src/auth/principal';
import type { PortalRecord, RunRecord } from '../../src/domain/records';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DOMAIN } from '../../src/local/simulator/demo';
import { METRICS, RUN_FINISHED_EVENT, SPANS } from '../../src/telemetry/names';
import { api, eventually, startApp, tempDir, type RunningApp } from '../e2e/app';
import { FakeIngestion, type Envelope } from '../fakes/ingestion';

/**
 * `npm start` with APPLICATIONINSIGHTS_CONNECTION_STRING pointing at a fake ingestion endpoint: the real Azure
 * Monitor distro and exporter run in the app's process and send what a successful and a failing run of the
 * simulated tenant emit.
 */

jest.setTimeout(120_000);

const WRONG_SECRET = 'wrong-secret-7Qx!never-in-telemetry';
/** The caller of every API request (LICENSE_SYNC_AUTH=easyauth): telemetry may name its object id, never its name. */
const CALLER = { name: 'ada.telemetry@contoso.example', objectId: '6f1c2d3e-0a4b-4c5d-9e8f-7a6b5c4d3e2f' };
const AS_ADMIN = { 'x-ms-client-principal': encodeClientPrincipal({ ...CALLER, roles: [ADMIN_ROLE] }) };

let ingestion: FakeIngestion;
let app: RunningApp;
let demoPortalId: string;
let failing: PortalRecord;
let failedRun: RunRecord;

const props = (e: Envelope): Record<string, string> => e.data?.baseData.properties ?? {};
const named = (envelopes: Envelope[], baseType: string, name: string) =>
  envelopes.filter((e) => e.data?.baseType === baseType && (e.data.baseData.name ?? e.data.baseData.message) === name);
const metricsNamed = (envelopes: Envelope[], name: string) =>
  envelopes.filter(
    (e) => e.data?.baseType === 'MetricData' && (e.data.baseData.metrics as { name: string }[])[0]?.name === name,
  );

async function finished(portalId: string, runId: string): Promise<RunRecord> {
  return eventually(async () => {
    const { body } = await api<RunRecord>(app, 'GET', `/api/portals/${portalId}/runs/${runId}`, undefined, AS_ADMIN);
    return ['succeeded', 'failed'].includes(body.status) ? body : undefined;
  }, `run ${runId}`);
}

beforeAll(async () => {
  ingestion = new FakeIngestion();
  await ingestion.start();
  // The app's data folder gets the suite's certificate, so the demo simulator and the fake are trusted alike.
  const dataDir = await tempDir('telemetry-');
  await mkdir(path.join(dataDir, 'tls'));
  await copyFile(process.env.LICENSE_SYNC_TEST_CERT!, path.join(dataDir, 'tls', 'localhost-cert.pem'));
  await copyFile(process.env.LICENSE_SYNC_TEST_KEY!, path.join(dataDir, 'tls', 'localhost-key.pem'));
  app = await startApp({
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
    LICENSE_SYNC_AUTH: 'easyauth',
    LICENSE_SYNC_DATA_DIR: dataDir,
    LICENSE_SYNC_STORAGE: 'memory',
    LICENSE_SYNC_SKU_NAMES_URL: 'https://127.0.0.1:9/none.csv',
    LICENSE_SYNC_SCHEDULE: '0 0 0 1 1 *',
    LICENSE_SYNC_LOCAL_POLL_INTERVAL: '0.5',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
  });
  const { body: portals } = await api<{ items: PortalRecord[] }>(app, 'GET', '/api/portals', undefined, AS_ADMIN);
  demoPortalId = portals.items[0]!.id;
  await eventually(async () => {
    const { body } = await api<PortalRecord>(app, 'GET', `/api/portals/${demoPortalId}`, undefined, AS_ADMIN);
    return body.lastRun?.status === 'succeeded' ? body : undefined;
  }, 'the demo portal to sync');

  const created = await api<PortalRecord>(
    app,
    'POST',
    '/api/portals',
    {
      name: 'Wrong secret',
      tenantId: DEMO_DOMAIN,
      clientId: DEMO_CLIENT_ID,
      cloud: 'simulated',
      auth: { kind: 'clientSecret', clientSecret: WRONG_SECRET },
    },
    AS_ADMIN,
  );
  expect(created.status).toBe(201);
  failing = created.body;
  const queued = await api<{ runId: string }>(app, 'POST', `/api/portals/${failing.id}/sync`, undefined, AS_ADMIN);
  expect(queued.status).toBe(202);
  failedRun = await finished(failing.id, queued.body.runId);
  expect(failedRun.status).toBe('failed');
  await ingestion.waitFor(
    (all) =>
      metricsNamed(all, METRICS.licenseFree).length > 0 &&
      metricsNamed(all, METRICS.runDuration).some((e) => props(e).status === 'failed') &&
      named(all, 'EventData', RUN_FINISHED_EVENT).length >= 2,
    'the run events and the license gauges',
  );
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await ingestion?.stop();
});

test('every log record of a run carries portalId, runId, trigger and attempt as customDimensions', () => {
  const all = ingestion.envelopes();
  const request = named(all, 'RequestData', SPANS.run).find((e) => props(e).runId === failedRun.id)!;
  const operation = request.tags!['ai.operation.id'];
  const runLines = all.filter((e) => e.data?.baseType === 'MessageData' && e.tags?.['ai.operation.id'] === operation);
  expect(runLines.map((e) => e.data!.baseData.message)).toEqual(expect.arrayContaining(['run started', 'run failed']));
  for (const line of runLines) {
    expect(props(line)).toMatchObject({ portalId: failing.id, runId: failedRun.id, trigger: 'manual', attempt: '1' });
  }
  const failure = runLines.find((e) => e.data!.baseData.message === 'run failed')!;
  expect(props(failure).errorCode).toBe(failedRun.errorCode);
  expect(failure.data!.baseData.severityLevel).toBe('Error');
});

test('each run ends with a licensesync.run.finished event: its status, error code and counts', () => {
  const events = named(ingestion.envelopes(), 'EventData', RUN_FINISHED_EVENT).map(props);
  expect(events).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ portalId: demoPortalId, status: 'succeeded', trigger: 'manual', usersRead: '25' }),
      expect.objectContaining({
        portalId: failing.id,
        runId: failedRun.id,
        status: 'failed',
        errorCode: failedRun.errorCode,
      }),
    ]),
  );
});

test('run metrics and per-license gauges arrive as customMetrics with bounded dimensions', () => {
  const all = ingestion.envelopes();
  for (const name of [METRICS.runDuration, METRICS.runUsers, METRICS.runChanges]) {
    const points = metricsNamed(all, name);
    expect(points.map(props)).toContainEqual(
      expect.objectContaining({ portalId: demoPortalId, status: 'succeeded', trigger: 'manual' }),
    );
  }
  expect(metricsNamed(all, METRICS.runDuration).map(props)).toContainEqual(
    expect.objectContaining({ portalId: failing.id, status: 'failed', errorCode: failedRun.errorCode }),
  );
  const users = metricsNamed(all, METRICS.runUsers).find((e) => props(e).portalId === demoPortalId)!;
  expect((users.data!.baseData.metrics as { value: number }[])[0]!.value).toBe(25);

  const licenseMetrics = [
    METRICS.licenseAvailable,
    METRICS.licenseConsumed,
    METRICS.licenseAssigned,
    METRICS.licenseFree,
  ];
  for (const name of licenseMetrics) {
    const points = metricsNamed(all, name);
    expect(new Set(points.map((e) => props(e).skuPartNumber)).size).toBe(5);
    for (const point of points) expect(Object.keys(props(point)).sort()).toEqual(['portalId', 'skuPartNumber']);
  }
  const value = (name: string, sku: string) =>
    (
      metricsNamed(all, name).find((e) => props(e).skuPartNumber === sku)!.data!.baseData.metrics as {
        value: number;
      }[]
    )[0]!.value;
  const sku = props(metricsNamed(all, METRICS.licenseFree)[0]!).skuPartNumber!;
  expect(value(METRICS.licenseFree, sku)).toBe(
    value(METRICS.licenseAvailable, sku) - value(METRICS.licenseConsumed, sku),
  );
});

test('a run is a request with child spans for the tenant read, the reconciliation and the apply, and Graph and storage calls as dependencies', () => {
  const all = ingestion.envelopes();
  const request = named(all, 'RequestData', SPANS.run).find((e) => props(e).portalId === demoPortalId)!;
  expect(request).toBeDefined();
  expect(request.data!.baseData.success).toBe(true);
  const operation = request.tags!['ai.operation.id'];
  const runSpanId = request.data!.baseData.id;
  const inRun = all.filter((e) => e.tags?.['ai.operation.id'] === operation);
  const children = inRun.filter((e) => e.tags?.['ai.operation.parentId'] === runSpanId);
  const childNames = new Set(children.map((e) => e.data!.baseData.name));
  for (const name of [SPANS.tenantRead, SPANS.reconcile, SPANS.apply]) expect(childNames).toContain(name);

  const reads = children.filter((e) => e.data!.baseData.name === SPANS.tenantRead);
  const readIds = new Set(reads.map((e) => e.data!.baseData.id));
  const graphCalls = inRun.filter(
    (e) =>
      e.data?.baseType === 'RemoteDependencyData' &&
      e.data.baseData.type === 'Http' &&
      readIds.has(e.tags!['ai.operation.parentId']!),
  );
  expect(graphCalls.map((e) => String(e.data!.baseData.data))).toEqual(
    expect.arrayContaining([expect.stringContaining('/subscribedSkus'), expect.stringContaining('/users')]),
  );
  const storageCalls = inRun.filter(
    (e) =>
      e.data?.baseType === 'RemoteDependencyData' &&
      JSON.stringify(e.data.baseData.data ?? '').includes('/devstoreaccount1/'),
  );
  expect(storageCalls.length).toBeGreaterThan(0);

  const failedRequest = named(all, 'RequestData', SPANS.run).find((e) => props(e).runId === failedRun.id)!;
  expect(failedRequest.data!.baseData.success).toBe(false);
  expect(props(failedRequest).errorCode).toBe(failedRun.errorCode);
});

test("an API request carries its route and the caller's object id, never the caller's name", () => {
  const requests = ingestion.envelopes().filter((e) => e.data?.baseType === 'RequestData');
  const sync = requests.find((e) => e.data!.baseData.name === 'POST /api/portals/{id}/sync');
  expect(sync).toBeDefined();
  expect(sync!.tags!['ai.user.authUserId']).toBe(CALLER.objectId);
  expect(ingestion.bodies.join('\n')).not.toContain(CALLER.name);
});

test('no secret value is in any envelope', () => {
  const sent = ingestion.bodies.join('\n');
  expect(sent.length).toBeGreaterThan(0);
  expect(sent).not.toContain(WRONG_SECRET);
  expect(sent).not.toContain(DEMO_CLIENT_SECRET);
  expect(sent).not.toMatch(/client_secret=|Bearer ey|"access_token"/i);
});
