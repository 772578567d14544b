import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalApp, type LocalApp } from '../../src/local/app';
import {
  addOperator,
  startSimulator,
  type SimOperator,
  type SimTenant,
  type Simulator,
} from '../../src/local/simulator';
import { testTls } from '../support/env';

/**
 * A secretless world: the simulated Entra with the operator's home tenant, its user-assigned managed identity
 * (answered at IDENTITY_ENDPOINT), the multi-tenant app whose federated credential trusts it, a customer
 * tenant that has not consented yet, and the whole local app (in this process) configured for federation.
 */
export interface FederatedWorld {
  simulator: Simulator;
  operator: SimOperator;
  app: LocalApp;
  customer: SimTenant;
  homeTenantId: string;
  identity: { clientId: string; objectId: string };
  multiTenantClientId: string;
  logs: string[];
  call(
    method: string,
    route: string,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; body: any; text: string }>;
  /** Follows the consent URL to the simulated consent page and back to the callback, without a browser. */
  consent(consentUrl: string): Promise<{ status: number; location?: string; text: string }>;
  /** Waits for a portal's last run (or run `runId`) to end. */
  lastRunOf(
    portalId: string,
    runId?: string,
  ): Promise<{ status: string; errorCode?: string; counts: Record<string, number> }>;
  close(): Promise<void>;
}

export async function startFederatedWorld(env: Record<string, string> = {}): Promise<FederatedWorld> {
  const simulator = await startSimulator(testTls());
  const operator = addOperator(simulator);
  const { homeTenantId, identity, multiTenantClientId } = operator;
  const customer = simulator.addTenant({
    displayName: 'Fabrikam',
    plans: [
      { skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 10 }] },
      { skuPartNumber: 'POWER_BI_PRO', subscriptions: [{ units: 3 }] },
    ],
    users: [
      {
        displayName: 'Grace Hopper',
        userPrincipalName: 'grace@fabrikam.example',
        licenses: [{ sku: 'ENTERPRISEPACK' }, { sku: 'POWER_BI_PRO' }],
      },
      { displayName: 'Alan Turing', userPrincipalName: 'alan@fabrikam.example', licenses: [{ sku: 'ENTERPRISEPACK' }] },
    ],
  });
  const prefix = `f${randomBytes(5).toString('hex')}`;
  const logs: string[] = [];
  const app = await startLocalApp({
    env: {
      PORT: '0',
      LICENSE_SYNC_DEMO: 'off',
      LICENSE_SYNC_DATA_DIR: await mkdtemp(path.join(process.env.LICENSE_SYNC_TEST_WORK_DIR ?? os.tmpdir(), 'fed-')),
      LICENSE_SYNC_TABLE_PREFIX: prefix,
      LICENSE_SYNC_QUEUE_NAME: `${prefix}-runs`,
      LICENSE_SYNC_AUTHORITY_HOST: simulator.authorityHost,
      LICENSE_SYNC_GRAPH_ENDPOINT: simulator.graphEndpoint,
      LICENSE_SYNC_SKU_NAMES_URL: `${simulator.url}/product-names.csv`,
      LICENSE_SYNC_LOCAL_RETRY_DELAY: '0.2',
      ...operator.env(),
      ...env,
    },
    log: (level, text) => logs.push(`${level} ${text}`),
  });
  // Short waits while "propagating", so the tests of what never propagates stay quick.
  app.settings.federation.propagationDelayMs = 20;
  operator.setApp({ redirectUris: [`${app.url}/api/consent/callback`] });

  const call: FederatedWorld['call'] = async (method, route, body, headers = {}) => {
    const response = await fetch(`${app.url}${route}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text };
  };

  const consent: FederatedWorld['consent'] = async (consentUrl) => {
    const page = await fetch(consentUrl, { redirect: 'manual' });
    const back = page.headers.get('location');
    if (page.status !== 302 || !back) return { status: page.status, text: await page.text() };
    const callback = await fetch(back, { redirect: 'manual' });
    return {
      status: callback.status,
      location: callback.headers.get('location') ?? undefined,
      text: await callback.text(),
    };
  };

  const lastRunOf: FederatedWorld['lastRunOf'] = async (portalId, runId) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const portal = await app.services.ledger.portals.get(portalId);
      const run = portal?.lastRun;
      if (run && (!runId || run.id === runId) && (run.status === 'succeeded' || run.status === 'failed')) return run;
      if (Date.now() > deadline)
        throw new Error(`No finished run of ${portalId}: ${JSON.stringify(run)}\n${logs.slice(-10).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  return {
    simulator,
    operator,
    app,
    customer,
    homeTenantId,
    identity,
    multiTenantClientId,
    logs,
    call,
    consent,
    lastRunOf,
    close: async () => {
      await app.stop();
      await simulator.close();
    },
  };
}
