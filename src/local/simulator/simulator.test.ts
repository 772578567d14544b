import { testTls } from '../../../test/support/env';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_TENANT_NAME,
  addDemoTenant,
  startSimulator,
  type SimTenant,
  type Simulator,
} from '.';

// The wire format of the simulated Entra ID and Graph, checked with plain HTTPS requests.

const CLIENT_ID = '99999999-0000-4000-8000-000000000001';
const SECRET = 'wire-test-secret';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator(testTls());
});

afterAll(async () => {
  await sim.close();
});

function newTenant(input: Parameters<Simulator['addTenant']>[0] = {}): SimTenant {
  return sim.addTenant({ displayName: 'Wire test', apps: [{ clientId: CLIENT_ID, clientSecret: SECRET }], ...input });
}

async function tokenFor(tenant: SimTenant, secret = SECRET): Promise<Response> {
  return fetch(`${sim.url}/${tenant.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: secret,
      scope: `${sim.url}/.default`,
    }),
  });
}

async function graph(tenant: SimTenant, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Response> {
  const { access_token: token } = (await (await tokenFor(tenant)).json()) as { access_token: string };
  const url = pathAndQuery.startsWith('https://') ? pathAndQuery : `${sim.url}${pathAndQuery}`;
  return fetch(url, { headers: { Authorization: `Bearer ${token}`, ...headers } });
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('simulated Entra ID', () => {
  test('answers 404 to anything it does not serve', async () => {
    const response = await fetch(`${sim.url}/common/discovery/instance?api-version=1.1`);
    expect(response.status).toBe(404);
  });

  test('serves the OpenID configuration of a tenant by domain, with GUID-based endpoints on its own host', async () => {
    const tenant = newTenant({ domains: ['wire-openid.example'] });
    const config = (await (
      await fetch(`${sim.url}/wire-openid.example/v2.0/.well-known/openid-configuration`)
    ).json()) as Json;
    expect(config.token_endpoint).toBe(`${sim.url}/${tenant.tenantId}/oauth2/v2.0/token`);
    expect(config.issuer).toBe(`${sim.url}/${tenant.tenantId}/v2.0`);
    expect(config.jwks_uri).toBeDefined();
  });

  test('answers an unknown tenant with AADSTS90002 in the real error shape', async () => {
    const openid = await fetch(`${sim.url}/no-such-tenant.example/v2.0/.well-known/openid-configuration`);
    expect(openid.status).toBe(400);
    expect(((await openid.json()) as Json).error).toBe('invalid_tenant');
    const token = await fetch(`${sim.url}/no-such-tenant.example/oauth2/v2.0/token`, {
      method: 'POST',
      body: 'grant_type=client_credentials',
    });
    const body = (await token.json()) as Json;
    expect(token.status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
    expect(body.error_description).toMatch(/^AADSTS90002: Tenant 'no-such-tenant.example' not found\./);
    expect(body).toHaveProperty('trace_id');
    expect(body).toHaveProperty('correlation_id');
    expect(body).toHaveProperty('timestamp');
  });

  test('answers a wrong client secret with 401 invalid_client AADSTS7000215', async () => {
    const response = await tokenFor(newTenant(), 'not-the-secret');
    const body = (await response.json()) as Json;
    expect(response.status).toBe(401);
    expect(body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided/);
  });

  test('issues a bearer token for the right secret', async () => {
    const body = (await (await tokenFor(newTenant())).json()) as Json;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(body.access_token.split('.')).toHaveLength(3);
  });

  test('answers the user-realm lookup', async () => {
    newTenant({ domains: ['realm.example'] });
    const known = (await (
      await fetch(`${sim.url}/common/userrealm/someone@realm.example?api-version=1.0`)
    ).json()) as Json;
    const unknown = (await (
      await fetch(`${sim.url}/common/userrealm/someone@elsewhere.example?api-version=1.0`)
    ).json()) as Json;
    expect([known.account_type, unknown.account_type]).toEqual(['Managed', 'Unknown']);
  });
});

describe('simulated Graph', () => {
  test("refuses a request without a token with 401 InvalidAuthenticationToken in Graph's error shape", async () => {
    const response = await fetch(`${sim.url}/v1.0/users`, { headers: { 'client-request-id': 'abc' } });
    const body = (await response.json()) as Json;
    expect(response.status).toBe(401);
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(body.error.innerError).toMatchObject({ 'client-request-id': 'abc' });
    expect(body.error.innerError['request-id']).toBeDefined();
    expect(body.error.innerError.date).toBeDefined();
  });

  test('reports subscribed SKUs in the real shape, several subscriptions adding up to prepaidUnits', async () => {
    const tenant = newTenant({
      plans: [
        {
          skuPartNumber: 'ENTERPRISEPACK',
          subscriptions: [{ units: 10 }, { units: 5, status: 'Warning' }, { units: 2, status: 'Suspended' }],
        },
        { skuPartNumber: 'POWER_BI_PRO', subscriptions: [{ units: 3, status: 'Suspended' }] },
      ],
      users: [
        { displayName: 'A B', userPrincipalName: 'ab@wire.example', licenses: [{ sku: 'ENTERPRISEPACK' }] },
        {
          displayName: 'C D',
          userPrincipalName: 'cd@wire.example',
          licenses: [
            {
              sku: 'ENTERPRISEPACK',
              groups: [{ groupId: '00000000-0000-4000-8000-00000000000a', error: 'CountViolation' }],
            },
          ],
        },
      ],
    });
    const body = (await (await graph(tenant, '/v1.0/subscribedSkus')).json()) as Json;
    const [e3, pbi] = body.value as Json[];
    expect(e3).toMatchObject({
      id: `${tenant.tenantId}_6fd2c87f-b296-42f0-b197-1e91e994b900`,
      skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900',
      skuPartNumber: 'ENTERPRISEPACK',
      capabilityStatus: 'Enabled',
      appliesTo: 'User',
      consumedUnits: 1,
      prepaidUnits: { enabled: 10, warning: 5, suspended: 2, lockedOut: 0 },
    });
    expect(e3!.servicePlans.length).toBeGreaterThan(0);
    expect(pbi).toMatchObject({ capabilityStatus: 'Suspended', consumedUnits: 0 });
  });

  test('returns only the $select-ed properties, pages by $top with an absolute nextLink, and rejects $top over 999', async () => {
    const tenant = newTenant({ generated: { users: 5, plans: 2 } });
    const first = (await (await graph(tenant, '/v1.0/users?$select=displayName,mail&$top=2')).json()) as Json;
    expect(first.value).toHaveLength(2);
    expect(Object.keys(first.value[0]).sort()).toEqual(['displayName', 'mail']);
    expect(first['@odata.nextLink']).toMatch(
      new RegExp(`^${sim.url.replace(/\./g, '\\.')}/v1\\.0/users\\?.*\\$skiptoken=`),
    );
    const second = (await (await graph(tenant, first['@odata.nextLink'])).json()) as Json;
    expect(second.value).toHaveLength(2);
    expect((await graph(tenant, '/v1.0/users?$top=1000')).status).toBe(400);
    const unknown = (await (await graph(tenant, '/v1.0/users?$select=shoeSize')).json()) as Json;
    expect(unknown.error.message).toContain("Could not find a property named 'shoeSize'");
  });

  test('with a page delay (the benchmark), answers a page after the delay scaled by its item count', async () => {
    const tenant = newTenant({ generated: { users: 500, plans: 1 } });
    const { access_token: token } = (await (await tokenFor(tenant)).json()) as { access_token: string };
    const timed = async (pathAndQuery: string) => {
      const started = Date.now();
      const response = await fetch(`${sim.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${token}` } });
      const body = (await response.json()) as Json;
      return { ms: Date.now() - started, items: (body.value as unknown[]).length };
    };
    sim.setPageDelay(999); // 1 ms per item
    try {
      const big = await timed('/v1.0/users?$top=400');
      const small = await timed('/v1.0/users?$top=10');
      expect(big).toMatchObject({ items: 400 });
      expect(big.ms).toBeGreaterThanOrEqual(390);
      expect(small.ms).toBeLessThan(big.ms);
    } finally {
      sim.setPageDelay(0);
    }
  });

  test('shows a failed group assignment in licenseAssignmentStates but not in assignedLicenses', async () => {
    const tenant = newTenant({
      plans: [{ skuPartNumber: 'SPB' }],
      users: [
        {
          displayName: 'E F',
          userPrincipalName: 'ef@wire.example',
          licenses: [
            { sku: 'SPB', groups: [{ groupId: '00000000-0000-4000-8000-00000000000b', error: 'CountViolation' }] },
          ],
        },
      ],
    });
    const body = (await (
      await graph(tenant, '/v1.0/users?$select=assignedLicenses,licenseAssignmentStates')
    ).json()) as Json;
    expect(body.value[0].assignedLicenses).toEqual([]);
    expect(body.value[0].licenseAssignmentStates).toEqual([
      expect.objectContaining({
        skuId: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46',
        assignedByGroup: '00000000-0000-4000-8000-00000000000b',
        state: 'Error',
        error: 'CountViolation',
      }),
    ]);
  });

  test('delta reports deleted users as @removed with their reason', async () => {
    const tenant = newTenant({
      users: [{ id: '00000000-0000-4000-8000-0000000000d1', displayName: 'G H', userPrincipalName: 'gh@wire.example' }],
    });
    const initial = (await (await graph(tenant, '/v1.0/users/delta?$select=displayName')).json()) as Json;
    tenant.removeUser('gh@wire.example', { permanent: true });
    const changes = (await (await graph(tenant, initial['@odata.deltaLink'])).json()) as Json;
    expect(changes.value).toEqual([{ id: '00000000-0000-4000-8000-0000000000d1', '@removed': { reason: 'deleted' } }]);
    tenant.expireDeltaLinks();
    const gone = await graph(tenant, changes['@odata.deltaLink']);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as Json).error.code).toBe('syncStateNotFound');
  });
});

describe('scripted faults', () => {
  test('are consumed in order and only by matching requests', async () => {
    const tenant = newTenant({ generated: { users: 4, plans: 1 } });
    tenant.fail({ kind: 'throttle', retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT' }, { resource: 'users' });
    tenant.fail({ kind: 'unavailable', status: 504 }, { times: 2 });
    const skus = await graph(tenant, '/v1.0/subscribedSkus');
    expect(skus.status).toBe(504);
    const users = await graph(tenant, '/v1.0/users');
    expect([users.status, users.headers.get('retry-after')]).toEqual([429, 'Wed, 21 Oct 2037 07:28:00 GMT']);
    expect((await graph(tenant, '/v1.0/users')).status).toBe(504);
    expect((await graph(tenant, '/v1.0/users')).status).toBe(200);
    expect(tenant.pendingFaults()).toBe(0);
  });

  test('can fail one page of users', async () => {
    const tenant = newTenant({ generated: { users: 6, plans: 1 } });
    tenant.fail({ kind: 'forbidden' }, { resource: 'users', page: 2 });
    const first = (await (await graph(tenant, '/v1.0/users?$top=2')).json()) as Json;
    expect(first.value).toHaveLength(2);
    const second = await graph(tenant, first['@odata.nextLink']);
    expect(second.status).toBe(403);
    expect(((await second.json()) as Json).error.code).toBe('Authorization_RequestDenied');
  });

  test('counts requests per path and tenant', async () => {
    const tenant = newTenant({ generated: { users: 3, plans: 1 } });
    await graph(tenant, '/v1.0/users');
    await graph(tenant, '/v1.0/subscribedSkus');
    expect(tenant.requestCount('/v1.0/users')).toBe(1);
    expect(tenant.requestCount(/^\/v1\.0\//)).toBe(2);
    expect(tenant.requestCount(/oauth2\/v2\.0\/token$/)).toBe(2);
  });
});

describe('generated tenants', () => {
  test('are the same for the same seed, and hold about 1.5 plans per user', async () => {
    const a = newTenant({ generated: { users: 2000, plans: 5, seed: 42 } });
    const b = newTenant({ generated: { users: 2000, plans: 5, seed: 42 } });
    const strip = (users: Json[]) =>
      users.map((u) => ({
        ...u,
        id: undefined,
        userPrincipalName: undefined,
        mail: undefined,
        proxyAddresses: undefined,
      }));
    const pageA = (await (
      await graph(a, '/v1.0/users?$select=id,displayName,assignedLicenses&$top=50')
    ).json()) as Json;
    const pageB = (await (
      await graph(b, '/v1.0/users?$select=id,displayName,assignedLicenses&$top=50')
    ).json()) as Json;
    expect(strip(pageA.value)).toEqual(strip(pageB.value));
    const skus = (await (await graph(a, '/v1.0/subscribedSkus')).json()) as Json;
    const consumed = (skus.value as Json[]).reduce((sum, sku) => sum + (sku.consumedUnits as number), 0);
    expect(consumed / 2000).toBeGreaterThan(1.4);
    expect(consumed / 2000).toBeLessThan(1.6);
  });

  test('serve 100,000 users page by page without building them up front', async () => {
    const started = Date.now();
    const tenant = newTenant({ generated: { users: 100_000, plans: 8, seed: 1 } });
    const page = (await (await graph(tenant, '/v1.0/users?$select=id,mail&$top=999')).json()) as Json;
    expect(page.value).toHaveLength(999);
    expect(tenant.userCount()).toBe(100_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('take changes to generated users like any other', () => {
    const tenant = newTenant({ generated: { users: 10, plans: 2 } });
    const id = tenant.generatedUserId(2);
    tenant.updateUser(id, { displayName: 'Changed' });
    expect(tenant.graphUser(id).displayName).toBe('Changed');
    tenant.removeUser(id);
    expect(tenant.userCount()).toBe(9);
    expect(tenant.userIds()).not.toContain(id);
  });
});

describe('the demo tenant', () => {
  test('is named as simulated and holds about 25 users with a guest, a disabled account and a CountViolation', async () => {
    const demoSim = await startSimulator(testTls());
    try {
      const demo = addDemoTenant(demoSim);
      expect(demo.displayName).toBe(DEMO_TENANT_NAME);
      expect(DEMO_TENANT_NAME).toMatch(/simulated/i);
      const token = (await (
        await fetch(`${demoSim.url}/${demo.tenantId}/oauth2/v2.0/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: DEMO_CLIENT_ID,
            client_secret: DEMO_CLIENT_SECRET,
            scope: `${demoSim.url}/.default`,
          }),
        })
      ).json()) as Json;
      const users = (
        (await (
          await fetch(`${demoSim.url}/v1.0/users?$select=userType,accountEnabled,licenseAssignmentStates&$top=999`, {
            headers: { Authorization: `Bearer ${token.access_token}` },
          })
        ).json()) as Json
      ).value as Json[];
      expect(users.length).toBeGreaterThanOrEqual(20);
      expect(users.some((u) => u.userType === 'Guest')).toBe(true);
      expect(users.some((u) => u.accountEnabled === false)).toBe(true);
      expect(users.some((u) => (u.licenseAssignmentStates as Json[]).some((s) => s.error === 'CountViolation'))).toBe(
        true,
      );
      const skus = (
        (await (
          await fetch(`${demoSim.url}/v1.0/subscribedSkus`, {
            headers: { Authorization: `Bearer ${token.access_token}` },
          })
        ).json()) as Json
      ).value as Json[];
      expect(skus.map((s) => s.skuPartNumber)).toEqual([
        'ENTERPRISEPACK',
        'SPB',
        'STANDARDPACK',
        'POWER_BI_PRO',
        'VISIOCLIENT',
      ]);
    } finally {
      await demoSim.close();
    }
  });
});
