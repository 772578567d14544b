import { randomBytes, randomUUID } from 'node:crypto';
import { startSimulator, type SimTenant, type Simulator } from '../../src/local/simulator';
import { testTls } from '../support/env';

/**
 * A simulated tenant for the API tests: one app registration that accepts two client secrets and a
 * certificate, a password user and one under MFA, three plans and a handful of users. Every credential is
 * random per run, so the secret scan can look for them.
 */
export interface TestTenant {
  simulator: Simulator;
  tenant: SimTenant;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  otherClientSecret: string;
  certificatePem: string;
  user: { username: string; password: string };
  mfaUser: { username: string; password: string };
  /** Every secret value handed out, for scans. */
  secrets: string[];
  close(): Promise<void>;
}

async function makeCertificate(): Promise<{ pem: string; cert: string; key: string }> {
  const selfsigned = (await import('selfsigned')) as unknown as {
    generate(attrs: unknown, options: unknown): Promise<{ private: string; cert: string }>;
  };
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'license-sync-test' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  return { pem: `${pems.cert.trim()}\n${pems.private.trim()}\n`, cert: pems.cert, key: pems.private };
}

export async function startTestTenant(): Promise<TestTenant> {
  const simulator = await startSimulator(testTls());
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const clientSecret = `cs1-${randomBytes(18).toString('base64url')}`;
  const otherClientSecret = `cs2-${randomBytes(18).toString('base64url')}`;
  const certificate = await makeCertificate();
  const domain = `t${randomBytes(4).toString('hex')}.onmicrosoft.com`;
  const user = { username: `sync.user@${domain}`, password: `pw-${randomBytes(18).toString('base64url')}` };
  const mfaUser = { username: `mfa.user@${domain}`, password: `pwm-${randomBytes(18).toString('base64url')}` };
  const tenant = simulator.addTenant({
    tenantId,
    displayName: 'API test tenant',
    domains: [domain],
    apps: [{ clientId, clientSecret: [clientSecret, otherClientSecret], certificates: [certificate.cert] }],
    passwordUsers: [{ ...user }, { ...mfaUser, mfa: 'required' }],
    plans: [
      { skuPartNumber: 'ENTERPRISEPACK', subscriptions: [{ units: 10 }] },
      { skuPartNumber: 'STANDARDPACK', subscriptions: [{ units: 5 }] },
      { skuPartNumber: 'POWER_BI_PRO', subscriptions: [{ units: 3 }] },
    ],
    users: [
      {
        displayName: 'Ada Lovelace',
        userPrincipalName: `ada@${domain}`,
        licenses: [{ sku: 'ENTERPRISEPACK' }, { sku: 'POWER_BI_PRO' }],
      },
      {
        displayName: 'Grace Hopper',
        userPrincipalName: `grace@${domain}`,
        aliases: [`g.hopper@${domain}`],
        licenses: [{ sku: 'ENTERPRISEPACK' }],
      },
      { displayName: 'Alan Turing', userPrincipalName: `alan@${domain}`, licenses: [{ sku: 'STANDARDPACK' }] },
    ],
  });
  const keyLines = certificate.key.split(/\r?\n/).filter((l) => l.length >= 40 && !l.startsWith('-----'));
  return {
    simulator,
    tenant,
    tenantId,
    clientId,
    clientSecret,
    otherClientSecret,
    certificatePem: certificate.pem,
    user,
    mfaUser,
    secrets: [clientSecret, otherClientSecret, user.password, mfaUser.password, certificate.key.trim(), ...keyLines],
    close: () => simulator.close(),
  };
}

let names = 0;
/** A unique portal name per call (tables are per test file, names only need to differ within one). */
export function portalName(prefix = 'Portal'): string {
  names += 1;
  return `${prefix} ${names} ${randomBytes(2).toString('hex')}`;
}

/** The body of POST /api/portals for the test tenant with its client secret; `overrides` replace fields. */
export function portalBody(
  t: Pick<TestTenant, 'tenantId' | 'clientId' | 'clientSecret'>,
  overrides: Record<string, unknown> = {},
  name = portalName(),
): Record<string, unknown> {
  return {
    name,
    tenantId: t.tenantId,
    clientId: t.clientId,
    cloud: 'simulated',
    auth: { kind: 'clientSecret', clientSecret: t.clientSecret },
    ...overrides,
  };
}
