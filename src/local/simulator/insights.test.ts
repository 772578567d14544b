import { testTls } from '../../../test/support/env';
import { NEVER_SIGNED_IN, startSimulator, type SimTenant, type Simulator } from '.';

// The wire format of the reads behind the ledger's insights: /directory/subscriptions (companySubscription)
// and users' signInActivity, with Graph's page limit, permission and licence errors.

const CLIENT_ID = '99999999-0000-4000-8000-000000000002';
const SECRET = 'insights-wire-secret';
const WITH_AUDIT_LOG = ['Organization.Read.All', 'User.Read.All', 'AuditLog.Read.All'];

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator(testTls());
});

afterAll(async () => {
  await sim.close();
});

type Json = Record<string, unknown> & { value: Record<string, unknown>[]; '@odata.nextLink'?: string };

function newTenant(input: Parameters<Simulator['addTenant']>[0] = {}, permissions = WITH_AUDIT_LOG): SimTenant {
  return sim.addTenant({
    displayName: 'Insights wire test',
    apps: [{ clientId: CLIENT_ID, clientSecret: SECRET, permissions }],
    ...input,
  });
}

async function tokenOf(tenant: SimTenant): Promise<string> {
  const tokenResponse = await fetch(`${sim.url}/${tenant.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: SECRET,
      scope: `${sim.url}/.default`,
    }),
  });
  return ((await tokenResponse.json()) as { access_token: string }).access_token;
}

async function graph(tenant: SimTenant, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Response> {
  const url = pathAndQuery.startsWith('https://') ? pathAndQuery : `${sim.url}${pathAndQuery}`;
  return fetch(url, { headers: { Authorization: `Bearer ${await tokenOf(tenant)}`, ...headers } });
}

async function errorOf(response: Response): Promise<{ status: number; code: string }> {
  const body = (await response.json()) as { error: { code: string } };
  return { status: response.status, code: body.error.code };
}

describe('/directory/subscriptions', () => {
  test('lists every subscription of every plan as a companySubscription, Deleted ones included', async () => {
    const tenant = newTenant({
      plans: [
        {
          skuPartNumber: 'ENTERPRISEPACK',
          subscriptions: [
            { units: 10, nextLifecycleDateTime: '2027-01-31T00:00:00Z' },
            { units: 5, isTrial: true, status: 'Warning', nextLifecycleDateTime: '2026-12-10T00:00:00Z' },
            { units: 3, status: 'Deleted' },
          ],
        },
      ],
    });
    const response = await graph(tenant, '/v1.0/directory/subscriptions');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    expect(body['@odata.context']).toBe(`${sim.url}/v1.0/$metadata#directory/subscriptions`);
    expect(body.value).toHaveLength(3);
    const [yearly, trial, deleted] = body.value;
    expect(yearly).toMatchObject({
      skuPartNumber: 'ENTERPRISEPACK',
      skuId: tenant.skuIdOf('ENTERPRISEPACK'),
      status: 'Enabled',
      totalLicenses: 10,
      isTrial: false,
      nextLifecycleDateTime: '2027-01-31T00:00:00Z',
    });
    expect(yearly!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(yearly!.commerceSubscriptionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(trial).toMatchObject({ status: 'Warning', isTrial: true, totalLicenses: 5 });
    expect(deleted).toMatchObject({ status: 'Deleted', totalLicenses: 3, nextLifecycleDateTime: null });
  });

  test("subscribedSkus names the same subscriptions and counts the non-Deleted ones' units", async () => {
    const tenant = newTenant({
      plans: [{ skuPartNumber: 'SPB', subscriptions: [{ units: 7 }, { units: 4, status: 'Deleted' }] }],
    });
    const subscriptions = (await (await graph(tenant, '/v1.0/directory/subscriptions')).json()) as Json;
    const skus = (await (await graph(tenant, '/v1.0/subscribedSkus')).json()) as Json;
    expect(skus.value[0]!.subscriptionIds).toEqual(subscriptions.value.map((s) => s.id));
    expect(skus.value[0]!.prepaidUnits).toEqual({ enabled: 7, warning: 0, suspended: 0, lockedOut: 0 });
  });

  test('answers 403 Authorization_RequestDenied without an organization permission', async () => {
    const tenant = newTenant({ plans: [{ skuPartNumber: 'SPB' }] }, ['User.Read.All']);
    expect(await errorOf(await graph(tenant, '/v1.0/directory/subscriptions'))).toEqual({
      status: 403,
      code: 'Authorization_RequestDenied',
    });
  });
});

describe('signInActivity on /users', () => {
  const activityUsers = {
    plans: [{ skuPartNumber: 'ENTERPRISEPACK' }],
    users: [
      {
        displayName: 'Active Alice',
        userPrincipalName: 'alice@insights.example',
        licenses: [{ sku: 'ENTERPRISEPACK' }],
        signInActivity: {
          lastSignInDateTime: '2026-11-01T08:00:00Z',
          lastNonInteractiveSignInDateTime: '2026-11-20T08:00:00Z',
          lastSuccessfulSignInDateTime: '2026-11-01T08:00:00Z',
        },
      },
      {
        displayName: 'Never Nora',
        userPrincipalName: 'nora@insights.example',
        licenses: [{ sku: 'ENTERPRISEPACK' }],
        signInActivity: {},
        createdDateTime: '2025-01-01T00:00:00Z',
      },
      { displayName: 'Unlicensed Uma', userPrincipalName: 'uma@insights.example', signInActivity: null },
    ],
  };

  test('answers the selected signInActivity, with 0001-01-01 for a kind of sign-in that never happened', async () => {
    const tenant = newTenant(activityUsers);
    const response = await graph(tenant, '/v1.0/users?$select=id,signInActivity,createdDateTime&$top=120');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    const [alice, nora, uma] = body.value;
    expect(Object.keys(alice!).sort()).toEqual(['createdDateTime', 'id', 'signInActivity']);
    expect(alice!.signInActivity).toMatchObject({
      lastSignInDateTime: '2026-11-01T08:00:00Z',
      lastNonInteractiveSignInDateTime: '2026-11-20T08:00:00Z',
      lastSuccessfulSignInDateTime: '2026-11-01T08:00:00Z',
    });
    expect((alice!.signInActivity as Record<string, string>).lastSignInRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(nora).toMatchObject({
      createdDateTime: '2025-01-01T00:00:00Z',
      signInActivity: { lastSignInDateTime: NEVER_SIGNED_IN, lastSuccessfulSignInRequestId: '' },
    });
    expect(uma!.signInActivity).toBeNull();
  });

  test('allows at most 120 users a page with signInActivity and answers 400 above it', async () => {
    const tenant = newTenant(activityUsers);
    expect(await errorOf(await graph(tenant, '/v1.0/users?$select=id,signInActivity&$top=121'))).toEqual({
      status: 400,
      code: 'Request_UnsupportedQuery',
    });
    expect((await graph(tenant, '/v1.0/users?$select=id,displayName&$top=999')).status).toBe(200);
  });

  test('pages a generated tenant 120 at a time and keeps the select on the next link', async () => {
    const tenant = newTenant({ generated: { users: 250, plans: 2 } });
    let url = '/v1.0/users?$select=id,signInActivity,createdDateTime&$top=120';
    const pages: number[] = [];
    let inactive = 0;
    let never = 0;
    for (;;) {
      const body = (await (await graph(tenant, url)).json()) as Json;
      pages.push(body.value.length);
      for (const user of body.value) {
        const activity = user.signInActivity as Record<string, string> | null;
        if (activity === null) never += 1;
        else if (Date.parse(activity.lastSuccessfulSignInDateTime!) < Date.now() - 90 * 86_400_000) inactive += 1;
      }
      if (!body['@odata.nextLink']) break;
      url = body['@odata.nextLink'];
      expect(url).toContain('$select=id,signInActivity,createdDateTime');
    }
    expect(pages).toEqual([120, 120, 10]);
    expect(never).toBe(22); // every 11th of 250
    expect(inactive).toBeGreaterThan(40); // every 4th that is not also an 11th
  });

  test('lists only licensed users with the advanced filter, which needs ConsistencyLevel eventual and $count', async () => {
    const tenant = newTenant(activityUsers);
    const query = '/v1.0/users?$select=id,signInActivity&$filter=assignedLicenses/$count ne 0&$count=true&$top=120';
    expect(await errorOf(await graph(tenant, query))).toEqual({ status: 400, code: 'Request_UnsupportedQuery' });
    const response = await graph(tenant, query, { ConsistencyLevel: 'eventual' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    expect(body.value).toHaveLength(2);
  });

  test('answers 403 Authorization_RequestDenied without AuditLog.Read.All', async () => {
    const tenant = newTenant(activityUsers, ['Organization.Read.All', 'User.Read.All']);
    expect(await errorOf(await graph(tenant, '/v1.0/users?$select=id,signInActivity&$top=120'))).toEqual({
      status: 403,
      code: 'Authorization_RequestDenied',
    });
    expect((await graph(tenant, '/v1.0/users?$select=id,mail')).status).toBe(200);
  });

  test('answers 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant in a tenant without Entra ID P1', async () => {
    const tenant = newTenant({ ...activityUsers, premium: false });
    expect(await errorOf(await graph(tenant, '/v1.0/users?$select=id,signInActivity&$top=120'))).toEqual({
      status: 403,
      code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    });
  });

  test('does not offer signInActivity on /users/delta', async () => {
    const tenant = newTenant(activityUsers);
    const response = await graph(tenant, '/v1.0/users/delta?$select=id,signInActivity');
    expect(response.status).toBe(400);
  });

  test('recording a sign-in is no change for /users/delta', async () => {
    const tenant = newTenant(activityUsers);
    const before = tenant.currentVersion();
    tenant.setSignInActivity('alice@insights.example', { lastSuccessfulSignInDateTime: '2026-11-28T08:00:00Z' });
    expect(tenant.currentVersion()).toBe(before);
    const body = (await (await graph(tenant, '/v1.0/users?$select=id,signInActivity&$top=1')).json()) as Json;
    expect(body.value[0]!.signInActivity).toMatchObject({ lastSuccessfulSignInDateTime: '2026-11-28T08:00:00Z' });
  });
});

describe('sendMail', () => {
  async function send(tenant: SimTenant, from: string, body: unknown): Promise<Response> {
    const token = await tokenOf(tenant);
    return fetch(`${sim.url}/v1.0/users/${encodeURIComponent(from)}/sendMail`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
  const mailbox = { users: [{ displayName: 'Alerts', userPrincipalName: 'alerts@insights.example' }] };
  const mail = {
    message: {
      subject: 'Low stock',
      body: { contentType: 'Text', content: 'E3: 1 of 20 free' },
      toRecipients: [{ emailAddress: { address: 'ops@example.com' } }],
    },
    saveToSentItems: false,
  };

  test('accepts mail from a mailbox with 202 and no body, and keeps it for the test to read', async () => {
    const tenant = newTenant(mailbox, ['Mail.Send']);
    const response = await send(tenant, 'alerts@insights.example', mail);
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    expect(tenant.sentMail).toEqual([{ from: 'alerts@insights.example', ...mail }]);
  });

  test('answers 403 ErrorAccessDenied without Mail.Send, 404 ErrorInvalidUser for an unknown mailbox', async () => {
    const denied = newTenant(mailbox, ['User.Read.All']);
    expect(await errorOf(await send(denied, 'alerts@insights.example', mail))).toEqual({
      status: 403,
      code: 'ErrorAccessDenied',
    });
    const tenant = newTenant(mailbox, ['Mail.Send']);
    expect(await errorOf(await send(tenant, 'nobody@insights.example', mail))).toEqual({
      status: 404,
      code: 'ErrorInvalidUser',
    });
    expect(await errorOf(await send(tenant, 'alerts@insights.example', { message: { subject: 'x' } }))).toEqual({
      status: 400,
      code: 'ErrorInvalidRecipients',
    });
    expect(tenant.sentMail).toEqual([]);
  });
});
