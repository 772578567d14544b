import net from 'node:net';
import { loadSettings, type Settings } from '../config/settings';
import { AppError } from '../domain/errors';
import type { Cloud } from '../domain/records';
import { startSimulator, type SimTenant, type Simulator } from '../local/simulator';
import type { PortalSecret } from '../domain/secrets';
import { testTls } from '../../test/support/env';
import { createTenantReader, type TenantReaderOptions } from './reader';
import { DeltaExpiredError, type TenantReader, type TenantUser, type UserDeltaPage } from '../domain/tenant';

// The real @azure/identity and Graph SDK against the simulated Entra ID and Graph.

const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const SECRET = 'sim-secret-Zq8~abcdefghijklmnopqrstuvwx';
const PASSWORD = 'Pa55word-that-must-not-leak';
const FAST: TenantReaderOptions = {
  retry: { maxRetries: 3, maxWaitMs: 50, baseDelayMs: 1 },
  signIn: { maxRetries: 0, retryDelayMs: 1 },
};

let sim: Simulator;
let appCert: { pem: string; withKey: string };
let otherCert: { withKey: string };

async function makeCertificate(name: string): Promise<{ pem: string; withKey: string }> {
  const selfsigned = (await import('selfsigned')) as unknown as {
    generate(attrs: unknown, options: unknown): Promise<{ private: string; cert: string }>;
  };
  const pems = await selfsigned.generate([{ name: 'commonName', value: name }], { keySize: 2048, algorithm: 'sha256' });
  return { pem: pems.cert, withKey: `${pems.private}\n${pems.cert}` };
}

beforeAll(async () => {
  sim = await startSimulator(testTls());
  [appCert, otherCert] = await Promise.all([makeCertificate('license-sync-app'), makeCertificate('someone-else')]);
});

afterEach(() => {
  // Anything the simulator does not serve would be a request meant for a real Microsoft host.
  expect(sim.requests().filter((r) => r.resource === 'unknown')).toEqual([]);
});

afterAll(async () => {
  await sim.close();
});

function settings(overrides: Partial<Settings> = {}): Settings {
  return {
    ...loadSettings({}),
    simulator: { authorityHost: sim.authorityHost, graphEndpoint: sim.graphEndpoint },
    ...overrides,
  };
}

function tenantWithUsers(count: number, extra: Parameters<Simulator['addTenant']>[0] = {}): SimTenant {
  return sim.addTenant({
    displayName: 'Reader test (simulated)',
    apps: [{ clientId: CLIENT_ID, clientSecret: SECRET, certificates: [appCert.pem] }],
    passwordUsers: [
      { username: 'admin@readertest.example', password: PASSWORD },
      { username: 'mfa@readertest.example', password: PASSWORD, mfa: 'required' },
      { username: 'enroll@readertest.example', password: PASSWORD, mfa: 'enroll' },
    ],
    generated: { users: count, plans: 3, seed: 7 },
    ...extra,
  });
}

function readerFor(
  tenant: { tenantId: string },
  secret: PortalSecret,
  options: TenantReaderOptions = {},
  cloud: Cloud = 'simulated',
  s = settings(),
): TenantReader {
  return createTenantReader({ tenantId: tenant.tenantId, clientId: CLIENT_ID, cloud }, secret, s, {
    ...FAST,
    ...options,
  });
}

const secretAuth: PortalSecret = { kind: 'clientSecret', clientSecret: SECRET };

async function readAll(reader: TenantReader): Promise<TenantUser[][]> {
  const pages: TenantUser[][] = [];
  for await (const page of reader.readUsers()) pages.push(page);
  return pages;
}

async function drainDelta(
  reader: TenantReader,
  link: string | undefined,
): Promise<{ pages: UserDeltaPage[]; link: string }> {
  const pages: UserDeltaPage[] = [];
  const generator = reader.readUserDelta(link);
  for (;;) {
    const step = await generator.next();
    if (step.done) return { pages, link: step.value };
    pages.push(step.value);
  }
}

async function failure(action: () => Promise<unknown>): Promise<AppError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

function expectNoSecretIn(error: AppError, ...secrets: string[]): void {
  for (const secret of [SECRET, PASSWORD, ...secrets]) {
    expect(error.message).not.toContain(secret);
    expect(error.detail ?? '').not.toContain(secret);
  }
  expect(error.message).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT
}

describe('signing in', () => {
  test('signs in with a client secret and reads the plans', async () => {
    const tenant = tenantWithUsers(3);
    const plans = await readerFor(tenant, secretAuth).readPlans();
    expect(plans.map((p) => p.skuPartNumber)).toEqual(['ENTERPRISEPACK', 'SPB', 'STANDARDPACK']);
    expect(tenant.requestCount(/\/oauth2\/v2.0\/token$/)).toBe(1);
  });

  test('signs in with a certificate whose key signs the client assertion', async () => {
    const tenant = tenantWithUsers(3);
    const plans = await readerFor(tenant, { kind: 'certificate', certificate: appCert.withKey }).readPlans();
    expect(plans).toHaveLength(3);
  });

  test('signs in with the legacy e-mail and password', async () => {
    const tenant = tenantWithUsers(3);
    const pages = await readAll(
      readerFor(tenant, { kind: 'password', username: 'admin@readertest.example', password: PASSWORD }),
    );
    expect(pages.flat()).toHaveLength(3);
  });

  test('addresses the tenant by a verified domain as well as by its GUID', async () => {
    const tenant = tenantWithUsers(2);
    const plans = await readerFor({ tenantId: tenant.domains[0]! }, secretAuth).readPlans();
    expect(plans).toHaveLength(3);
  });

  test('uses the operator overrides of authority host and Graph endpoint for a real cloud, and calls nothing else', async () => {
    const tenant = tenantWithUsers(2);
    sim.resetCounts();
    const overridden = settings({
      simulator: undefined,
      authorityHostOverride: sim.url,
      graphEndpointOverride: sim.url,
    });
    await readerFor(tenant, secretAuth, {}, 'global', overridden).readPlans();
    expect(sim.requests().filter((r) => r.resource === 'unknown')).toEqual([]);
    expect(sim.requestCount('/v1.0/subscribedSkus', tenant.tenantId)).toBe(1);
  });

  test('reuses one token for every Graph request of a run', async () => {
    const tenant = tenantWithUsers(25);
    await readAll(readerFor(tenant, secretAuth, { pageSize: 10 }));
    expect(tenant.requestCount(/\/oauth2\/v2.0\/token$/)).toBe(1);
  });
});

describe('mapping sign-in failures', () => {
  test('a wrong client secret gives invalid_client_secret', async () => {
    const tenant = tenantWithUsers(1);
    const wrong = 'wrong-secret-value-1234567890';
    const error = await failure(() => readerFor(tenant, { kind: 'clientSecret', clientSecret: wrong }).readPlans());
    expect(error.code).toBe('invalid_client_secret');
    expect(error.transient).toBe(false);
    expectNoSecretIn(error, wrong);
  });

  test('a certificate the app does not know gives invalid_certificate', async () => {
    const tenant = tenantWithUsers(1);
    const error = await failure(() =>
      readerFor(tenant, { kind: 'certificate', certificate: otherCert.withKey }).readPlans(),
    );
    expect(error.code).toBe('invalid_certificate');
    expectNoSecretIn(error, otherCert.withKey.slice(40, 80));
  });

  test('an unknown tenant gives tenant_not_found', async () => {
    const error = await failure(() => readerFor({ tenantId: 'nobody-here.onmicrosoft.com' }, secretAuth).readPlans());
    expect(error.code).toBe('tenant_not_found');
    expectNoSecretIn(error);
  });

  test('a client id the tenant does not know gives app_not_in_tenant', async () => {
    const tenant = tenantWithUsers(1);
    tenant.removeApp(CLIENT_ID);
    const error = await failure(() => readerFor(tenant, secretAuth).readPlans());
    expect(error.code).toBe('app_not_in_tenant');
    expectNoSecretIn(error);
  });

  test('a password user who must use MFA gives mfa_required', async () => {
    const tenant = tenantWithUsers(1);
    const error = await failure(() =>
      readerFor(tenant, { kind: 'password', username: 'mfa@readertest.example', password: PASSWORD }).readPlans(),
    );
    expect(error.code).toBe('mfa_required');
    expect(error.message).toMatch(/client secret or certificate/);
    expectNoSecretIn(error);
  });

  test('a password user who must enroll in MFA gives mfa_required', async () => {
    const tenant = tenantWithUsers(1);
    const error = await failure(() =>
      readerFor(tenant, { kind: 'password', username: 'enroll@readertest.example', password: PASSWORD }).readPlans(),
    );
    expect(error.code).toBe('mfa_required');
    expectNoSecretIn(error);
  });

  test('a wrong password gives invalid_user_credentials', async () => {
    const tenant = tenantWithUsers(1);
    const wrong = 'Wrong-password-42';
    const error = await failure(() =>
      readerFor(tenant, { kind: 'password', username: 'admin@readertest.example', password: wrong }).readPlans(),
    );
    expect(error.code).toBe('invalid_user_credentials');
    expectNoSecretIn(error, wrong);
  });

  test('any other sign-in error gives sign_in_failed with the AADSTS code', async () => {
    const tenant = tenantWithUsers(1);
    tenant.fail({ kind: 'signIn', code: 700024 });
    const error = await failure(() => readerFor(tenant, secretAuth).readPlans());
    expect(error.code).toBe('sign_in_failed');
    expect(error.detail).toMatch(/^AADSTS700024/);
    expectNoSecretIn(error);
  });

  test('each scripted sign-in fault maps like the real one', async () => {
    const expected = {
      7000215: 'invalid_client_secret',
      700027: 'invalid_certificate',
      700016: 'app_not_in_tenant',
      50076: 'mfa_required',
      50079: 'mfa_required',
      50126: 'invalid_user_credentials',
    } as const;
    for (const [code, mapped] of Object.entries(expected)) {
      const tenant = tenantWithUsers(1);
      tenant.fail({ kind: 'signIn', code: Number(code) as keyof typeof expected });
      const error = await failure(() => readerFor(tenant, secretAuth).readPlans());
      expect([code, error.code]).toEqual([code, mapped]);
    }
  });

  test('an authority nobody answers on gives graph_unreachable, transient', async () => {
    const port = await closedPort();
    const unreachable = settings({
      simulator: { authorityHost: `https://127.0.0.1:${port}`, graphEndpoint: `https://127.0.0.1:${port}` },
    });
    const error = await failure(() =>
      readerFor({ tenantId: 'contoso.onmicrosoft.com' }, secretAuth, {}, 'simulated', unreachable).readPlans(),
    );
    expect(error.code).toBe('graph_unreachable');
    expect(error.transient).toBe(true);
  });
});

describe('mapping Graph failures', () => {
  test('403 Authorization_RequestDenied gives consent_missing naming both permissions', async () => {
    const tenant = tenantWithUsers(1);
    tenant.fail({ kind: 'forbidden' });
    const error = await failure(() => readerFor(tenant, secretAuth).readPlans());
    expect(error.code).toBe('consent_missing');
    expect(error.message).toContain('Organization.Read.All');
    expect(error.message).toContain('User.Read.All');
    expectNoSecretIn(error);
  });

  test('an app without User.Read.All is denied the users and gets consent_missing', async () => {
    const tenant = tenantWithUsers(2);
    tenant.updateApp(CLIENT_ID, { permissions: ['Organization.Read.All'] });
    const reader = readerFor(tenant, secretAuth);
    await expect(reader.readPlans()).resolves.toHaveLength(3);
    const error = await failure(() => readAll(reader));
    expect(error.code).toBe('consent_missing');
  });

  test('a connection reset in the middle of a user page gives graph_unreachable, transient', async () => {
    const tenant = tenantWithUsers(30);
    tenant.fail({ kind: 'reset' }, { resource: 'users', page: 2 });
    const reader = readerFor(tenant, secretAuth, { pageSize: 10 });
    const seen: number[] = [];
    const error = await failure(async () => {
      for await (const page of reader.readUsers()) seen.push(page.length);
    });
    expect(seen).toEqual([10]);
    expect(error.code).toBe('graph_unreachable');
    expect(error.transient).toBe(true);
  });

  test('a Graph endpoint nobody answers on gives graph_unreachable', async () => {
    const tenant = tenantWithUsers(1);
    const port = await closedPort();
    const s = settings({ simulator: { authorityHost: sim.url, graphEndpoint: `https://127.0.0.1:${port}` } });
    const error = await failure(() => readerFor(tenant, secretAuth, {}, 'simulated', s).readPlans());
    expect(error.code).toBe('graph_unreachable');
    expect(error.transient).toBe(true);
  });

  test('a 500 gives a transient graph_error; a 400 a permanent one', async () => {
    const tenant = tenantWithUsers(1);
    tenant.fail({ kind: 'graphError', status: 500, code: 'UnknownError', message: 'Something broke.' });
    const serverError = await failure(() => readerFor(tenant, secretAuth).readPlans());
    expect([serverError.code, serverError.transient]).toEqual(['graph_error', true]);
    expect(serverError.detail).toContain('Something broke.');
    tenant.fail({ kind: 'graphError', status: 400, code: 'BadRequest', message: 'Bad request.' });
    const clientError = await failure(() => readerFor(tenant, secretAuth).readPlans());
    expect([clientError.code, clientError.transient]).toEqual(['graph_error', false]);
  });

  test('a revoked token gives a permanent graph_error naming InvalidAuthenticationToken', async () => {
    const tenant = tenantWithUsers(12);
    const reader = readerFor(tenant, secretAuth, { pageSize: 10 });
    await reader.readPlans();
    sim.revokeTokens();
    const error = await failure(() => readAll(reader));
    expect(error.code).toBe('graph_error');
    expect(error.detail).toContain('InvalidAuthenticationToken');
  });
});

describe('paging', () => {
  test('reads every user page by page: Graph requests = user pages + 1', async () => {
    const tenant = tenantWithUsers(25);
    const reader = readerFor(tenant, secretAuth, { pageSize: 10 });
    await reader.readPlans();
    const pages = await readAll(reader);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(new Set(pages.flat().map((u) => u.objectId)).size).toBe(25);
    expect(reader.stats()).toEqual({ graphRequests: pages.length + 1, throttledRetries: 0 });
    expect(tenant.requestCount(/^\/v1\.0\//)).toBe(pages.length + 1);
  });

  test('asks for $top=999 and $select of just the needed properties', async () => {
    const tenant = tenantWithUsers(1001);
    const reader = readerFor(tenant, secretAuth, { pageSize: undefined });
    const pages = await readAll(reader);
    expect(pages.map((p) => p.length)).toEqual([999, 2]);
    const [first, second] = sim.requests().filter((r) => r.tenantId === tenant.tenantId && r.path === '/v1.0/users');
    const query = new URLSearchParams(first!.query);
    expect(query.get('$top')).toBe('999');
    expect(query.get('$select')!.split(',').sort()).toEqual([
      'accountEnabled',
      'assignedLicenses',
      'displayName',
      'id',
      'licenseAssignmentStates',
      'mail',
      'proxyAddresses',
      'userPrincipalName',
      'userType',
    ]);
    expect(new URLSearchParams(second!.query).get('$skiptoken')).toBeTruthy();
  });
});

describe('throttling and retries', () => {
  test.each([
    ['whole seconds', '0'],
    ['fractional seconds', '0.01'],
    ['an HTTP date', new Date(Date.now() - 1000).toUTCString()],
  ])('survives 429 with Retry-After in %s and counts the retry', async (_form, retryAfter) => {
    const tenant = tenantWithUsers(15);
    tenant.fail({ kind: 'throttle', retryAfter }, { resource: 'users', page: 2 });
    const reader = readerFor(tenant, secretAuth, { pageSize: 10 });
    const pages = await readAll(reader);
    expect(pages.flat()).toHaveLength(15);
    expect(reader.stats()).toEqual({ graphRequests: 3, throttledRetries: 1 });
  });

  test('waits as long as Retry-After asks when that is within the bound', async () => {
    const tenant = tenantWithUsers(2);
    tenant.fail({ kind: 'throttle', retryAfter: '0.2' });
    const reader = readerFor(tenant, secretAuth, { retry: { maxRetries: 2, maxWaitMs: 5_000, baseDelayMs: 1 } });
    await reader.readPlans(); // signs in first, so the timing below is only the Graph wait
    tenant.fail({ kind: 'throttle', retryAfter: '0.2' });
    const started = Date.now();
    await reader.readPlans();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test('never waits longer than the configured bound of a single wait', async () => {
    const tenant = tenantWithUsers(2);
    tenant.fail({ kind: 'throttle', retryAfter: '30' });
    const reader = readerFor(tenant, secretAuth, { retry: { maxRetries: 2, maxWaitMs: 20, baseDelayMs: 1 } });
    const started = Date.now();
    await reader.readPlans();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(reader.stats().throttledRetries).toBe(1);
  });

  test.each([503, 504] as const)('retries %i and then succeeds', async (status) => {
    const tenant = tenantWithUsers(2);
    tenant.fail({ kind: 'unavailable', status }, { times: 2 });
    const reader = readerFor(tenant, secretAuth);
    await expect(reader.readPlans()).resolves.toHaveLength(3);
    expect(reader.stats()).toEqual({ graphRequests: 3, throttledRetries: 2 });
  });

  test('gives up after the maximum retries with throttled, transient', async () => {
    const tenant = tenantWithUsers(2);
    tenant.fail({ kind: 'throttle', retryAfter: '0.01' }, { times: Infinity });
    const reader = readerFor(tenant, secretAuth, { retry: { maxRetries: 3, maxWaitMs: 50, baseDelayMs: 1 } });
    const error = await failure(() => reader.readPlans());
    expect([error.code, error.transient]).toEqual(['throttled', true]);
    expect(reader.stats()).toEqual({ graphRequests: 4, throttledRetries: 3 });
  });
});

describe('delta', () => {
  test('a first delta round yields every user and ends with a delta link', async () => {
    const tenant = tenantWithUsers(23);
    const reader = readerFor(tenant, secretAuth, { pageSize: 10 });
    const { pages, link } = await drainDelta(reader, undefined);
    expect(pages.map((p) => p.users.length)).toEqual([10, 10, 3]);
    expect(pages.flatMap((p) => p.removedObjectIds)).toEqual([]);
    expect(link).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\/delta\?\$deltatoken=/);
  });

  test('the next round yields only changed users and the ids of removed ones', async () => {
    const tenant = tenantWithUsers(20);
    const first = await drainDelta(readerFor(tenant, secretAuth, { pageSize: 10 }), undefined);
    const renamed = tenant.generatedUserId(3);
    const relicensed = tenant.generatedUserId(4);
    const softDeleted = tenant.generatedUserId(5);
    const purged = tenant.generatedUserId(6);
    tenant.updateUser(renamed, {
      displayName: 'Renamed Person',
      mail: 'renamed@readertest.example',
      aliases: ['old@readertest.example'],
    });
    tenant.assignLicense(relicensed, { sku: 'STANDARDPACK', groups: ['0f0f0f0f-0000-4000-8000-000000000001'] });
    tenant.removeUser(softDeleted);
    tenant.removeUser(purged, { permanent: true });
    const added = tenant.addUser({
      displayName: 'New Hire',
      userPrincipalName: 'new.hire@readertest.example',
      licenses: [{ sku: 'SPB' }],
    });

    const reader = readerFor(tenant, secretAuth, { pageSize: 10 });
    const second = await drainDelta(reader, first.link);
    const users = second.pages.flatMap((p) => p.users);
    expect(users.map((u) => u.objectId).sort()).toEqual([renamed, relicensed, added].sort());
    expect(second.pages.flatMap((p) => p.removedObjectIds).sort()).toEqual([softDeleted, purged].sort());
    const renamedUser = users.find((u) => u.objectId === renamed)!;
    expect(renamedUser.displayName).toBe('Renamed Person');
    expect(renamedUser.addresses).toEqual(
      expect.arrayContaining(['renamed@readertest.example', 'old@readertest.example']),
    );
    const groupPlan = users.find((u) => u.objectId === relicensed)!.plans.find((p) => p.assignedViaGroups.length > 0)!;
    expect(groupPlan).toMatchObject({
      assignedDirectly: false,
      assignedViaGroups: ['0f0f0f0f-0000-4000-8000-000000000001'],
    });
    expect(reader.stats().graphRequests).toBe(1);

    const third = await drainDelta(reader, second.link);
    expect(third.pages.flatMap((p) => [...p.users, ...p.removedObjectIds])).toEqual([]);
  });

  test('an expired delta link throws DeltaExpiredError', async () => {
    const tenant = tenantWithUsers(5);
    const { link } = await drainDelta(readerFor(tenant, secretAuth), undefined);
    tenant.expireDeltaLinks();
    await expect(drainDelta(readerFor(tenant, secretAuth), link)).rejects.toBeInstanceOf(DeltaExpiredError);
  });

  test('410 resyncRequired in the middle of a delta round throws DeltaExpiredError', async () => {
    const tenant = tenantWithUsers(25);
    tenant.fail(
      { kind: 'graphError', status: 410, code: 'resyncRequired', message: 'Resync required.' },
      { resource: 'usersDelta', page: 2 },
    );
    await expect(drainDelta(readerFor(tenant, secretAuth, { pageSize: 10 }), undefined)).rejects.toBeInstanceOf(
      DeltaExpiredError,
    );
  });

  test('a delta link Graph does not recognise throws DeltaExpiredError', async () => {
    const tenant = tenantWithUsers(5);
    await expect(
      drainDelta(readerFor(tenant, secretAuth), `${sim.url}/v1.0/users/delta?$deltatoken=bm90LWEtdG9rZW4`),
    ).rejects.toBeInstanceOf(DeltaExpiredError);
  });

  test('a delta link for another host is never followed', async () => {
    const tenant = tenantWithUsers(5);
    sim.resetCounts();
    await expect(
      drainDelta(readerFor(tenant, secretAuth), 'https://graph.example.net/v1.0/users/delta?$deltatoken=abc'),
    ).rejects.toBeInstanceOf(DeltaExpiredError);
    expect(sim.requestCount(/^\/v1\.0\//)).toBe(0);
  });
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
