import { checkDestination, isPublicAddress, signature } from './destination';
import { evaluate, type Facts, type LicenseFacts, type RenewalFacts } from './evaluate';
import { alertChanges, scopes, type OpenAlert } from './lifecycle';
import { alertRulesSchema, defaultAlertRules } from './rules';

const NOW = new Date('2026-11-29T12:00:00Z');
const inDays = (days: number) => new Date(NOW.getTime() + days * 86_400_000).toISOString();

function license(overrides: Partial<LicenseFacts> = {}): LicenseFacts {
  return {
    licenseId: 'l1',
    portalId: 'p1',
    skuId: 'sku-e3',
    name: 'Contoso - Office 365 E3',
    available: 100,
    consumedUnits: 50,
    assignmentErrors: 0,
    ...overrides,
  };
}

/** A paid, Enabled subscription renewing in 20 days with 10 of its 30 seats to cut. */
function renewal(overrides: Partial<RenewalFacts> = {}): RenewalFacts {
  return {
    portalId: 'p1',
    licenseId: 'l1',
    skuId: 'sku',
    licenseName: 'A - E3',
    subscriptionId: 's1',
    status: 'Enabled',
    isTrial: false,
    nextLifecycleAt: inDays(20),
    totalLicenses: 30,
    recommendedSeats: 20,
    seatsToCut: 10,
    ...overrides,
  };
}

function facts(overrides: Partial<Facts> = {}): Facts {
  return { licenses: [], portals: [], renewals: [], ...overrides };
}

describe('the rules document', () => {
  test('a rule or field left out takes its default', () => {
    const rules = alertRulesSchema.parse({ lowStock: { minFree: 10 }, inactive: { enabled: true } });
    expect(rules.lowStock).toEqual({ enabled: true, minFree: 10, minFreePercent: 5 });
    expect(rules.inactive).toEqual({ enabled: true, minCount: 1 });
    expect(rules.runFailures).toEqual({ enabled: true, consecutive: 3 });
    expect(rules.rightSize).toEqual({ enabled: true, days: 45 });
    expect(rules.stale).toEqual({ enabled: true, hours: 24 });
    expect(defaultAlertRules().inactive.enabled).toBe(false);
  });

  test('an unknown key is refused, at the top and inside a rule', () => {
    expect(alertRulesSchema.safeParse({ lowStok: {} }).success).toBe(false);
    expect(alertRulesSchema.safeParse({ expiring: { dayz: 3 } }).success).toBe(false);
  });
});

describe('evaluating the rules', () => {
  const rules = defaultAlertRules();

  test('low stock below 2 free or below 5 % of available', () => {
    const held = evaluate(
      rules,
      facts({
        licenses: [
          license({ licenseId: 'a', available: 10, consumedUnits: 9 }),
          license({ licenseId: 'b', available: 100, consumedUnits: 96 }),
          license({ licenseId: 'c', available: 100, consumedUnits: 95 }),
          license({ licenseId: 'gone', available: 0, consumedUnits: 0 }),
        ],
      }),
      NOW,
    );
    expect(held.map((c) => [c.rule, c.licenseId, c.severity])).toEqual([
      ['lowStock', 'a', 'warning'],
      ['lowStock', 'b', 'warning'],
    ]);
  });

  test('an over-assigned license raises overAssigned (critical) instead of low stock', () => {
    const [only, ...rest] = evaluate(rules, facts({ licenses: [license({ available: 10, consumedUnits: 12 })] }), NOW);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ rule: 'overAssigned', severity: 'critical', details: { over: 2 } });
  });

  test('expiring within 30 days, assignment errors, and inactive holders only when that rule is on', () => {
    const licenses = [license({ nextLifecycleAt: inDays(10), assignmentErrors: 2, inactiveHolders: 4 })];
    expect(evaluate(rules, facts({ licenses }), NOW).map((c) => c.rule)).toEqual(['expiring', 'assignmentErrors']);
    const withInactive = alertRulesSchema.parse({ inactive: { enabled: true, minCount: 4 } });
    expect(evaluate(withInactive, facts({ licenses }), NOW).map((c) => c.rule)).toContain('inactive');
    expect(evaluate(rules, facts({ licenses: [license({ nextLifecycleAt: inDays(31) })] }), NOW)).toEqual([]);
  });

  test('run failures from 3 in a row and credential expiry within 30 days, per portal', () => {
    const held = evaluate(
      rules,
      facts({
        portals: [
          { portalId: 'p1', name: 'A', consecutiveFailures: 3, lastErrorCode: 'invalid_client_secret' },
          { portalId: 'p2', name: 'B', consecutiveFailures: 2, credentialExpiresAt: inDays(12) },
        ],
      }),
      NOW,
    );
    expect(held.map((c) => [c.rule, c.portalId, c.severity])).toEqual([
      ['runFailures', 'p1', 'critical'],
      ['credentialExpiry', 'p2', 'warning'],
    ]);
    expect(held[0]!.details.errorCode).toBe('invalid_client_secret');
  });

  test('stale: an auto-syncing portal without a successful run for 24 hours (or never, 24 hours after it was added)', () => {
    const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();
    const portal = { name: 'P', consecutiveFailures: 0, autoSyncing: true };
    const held = evaluate(
      rules,
      facts({
        portals: [
          { ...portal, portalId: 'late', lastSuccessAt: hoursAgo(25), createdAt: hoursAgo(900) },
          { ...portal, portalId: 'fresh', lastSuccessAt: hoursAgo(23), createdAt: hoursAgo(900) },
          { ...portal, portalId: 'never', createdAt: hoursAgo(30) },
          { ...portal, portalId: 'new', createdAt: hoursAgo(2) },
          { ...portal, portalId: 'paused', autoSyncing: false, lastSuccessAt: hoursAgo(100) },
        ],
      }),
      NOW,
    );
    expect(held.map((c) => [c.rule, c.portalId, c.severity])).toEqual([
      ['stale', 'late', 'critical'],
      ['stale', 'never', 'critical'],
    ]);
    expect(held[1]!.message).toBe('P: no successful sync yet');
    const relaxed = alertRulesSchema.parse({ stale: { hours: 48 } });
    expect(
      evaluate(relaxed, facts({ portals: [{ ...portal, portalId: 'late', lastSuccessAt: hoursAgo(25) }] }), NOW),
    ).toEqual([]);
  });

  test('right-size per subscription with seats to cut inside its window', () => {
    const held = evaluate(
      rules,
      facts({
        renewals: [
          renewal({ subscriptionId: 's1', seatsToCut: 10, savingsPerTerm: 3600, currency: 'EUR' }),
          renewal({ subscriptionId: 's2', seatsToCut: 0 }),
          renewal({ subscriptionId: 's3', seatsToCut: 5, nextLifecycleAt: inDays(60) }),
          renewal({ subscriptionId: 's4', seatsToCut: 1 }),
        ],
      }),
      NOW,
    );
    expect(held).toHaveLength(2);
    expect(held[0]).toMatchObject({ rule: 'rightSize', subject: 'p1/s1', severity: 'warning' });
    expect(held[0]!.message).toContain('10 seats to cut');
    expect(held[0]!.message).toContain('3600.00 EUR');
    expect(held[1]!.message).toContain('A - E3: 1 seat to cut before it renews in 20 days');
  });

  test('right-size only for subscriptions that will renew: none for a trial, nor a Warning, Suspended or LockedOut one', () => {
    const held = evaluate(
      rules,
      facts({
        renewals: [
          renewal({ subscriptionId: 'trial', isTrial: true }),
          renewal({ subscriptionId: 'grace', status: 'Warning' }),
          renewal({ subscriptionId: 'suspended', status: 'Suspended' }),
          renewal({ subscriptionId: 'locked', status: 'LockedOut' }),
          renewal({ subscriptionId: 'paid' }),
        ],
      }),
      NOW,
    );
    expect(held.map((c) => c.subject)).toEqual(['p1/paid']);
  });

  test('an open right-size alert resolves once its subscription is suspended', () => {
    const before = evaluate(rules, facts({ renewals: [renewal()] }), NOW);
    const after = evaluate(rules, facts({ renewals: [renewal({ status: 'Suspended' })] }), NOW);
    expect(before).toHaveLength(1);
    const open = before.map((c, i) => ({ id: `a${i}`, ...c }));
    expect(alertChanges(open, after, scopes.everything).resolve.map((a) => a.subject)).toEqual(['p1/s1']);
  });

  test('exclusions by portal, license or plan leave their subjects out', () => {
    const licenses = [license({ available: 10, consumedUnits: 12 })];
    for (const exclude of [{ portalIds: ['P1'] }, { licenseIds: ['l1'] }, { skuIds: ['SKU-E3'] }]) {
      expect(evaluate(alertRulesSchema.parse({ exclude }), facts({ licenses }), NOW)).toEqual([]);
    }
  });
});

describe('the life of an alert', () => {
  const rules = defaultAlertRules();
  const open = (held: ReturnType<typeof evaluate>): OpenAlert[] => held.map((c, i) => ({ id: `a${i}`, ...c }));

  test('is raised once: the same condition again changes nothing', () => {
    const held = evaluate(rules, facts({ licenses: [license({ available: 10, consumedUnits: 9 })] }), NOW);
    expect(alertChanges([], held, scopes.everything).raise).toHaveLength(1);
    expect(alertChanges(open(held), held, scopes.everything)).toEqual({ raise: [], update: [], resolve: [] });
  });

  test('is updated without a new alert when its figures change', () => {
    const before = evaluate(rules, facts({ licenses: [license({ available: 100, consumedUnits: 97 })] }), NOW);
    const after = evaluate(rules, facts({ licenses: [license({ available: 100, consumedUnits: 99 })] }), NOW);
    expect(before).toHaveLength(1);
    const changes = alertChanges(open(before), after, scopes.everything);
    expect(changes.raise).toEqual([]);
    expect(changes.update).toHaveLength(1);
    expect(changes.update[0]!.condition.details.free).toBe(1);
  });

  test('is resolved when it clears, but only within the scope evaluated', () => {
    const held = evaluate(
      rules,
      facts({
        licenses: [
          license({ available: 10, consumedUnits: 9 }),
          license({ portalId: 'p2', licenseId: 'l2', available: 1, consumedUnits: 1 }),
        ],
      }),
      NOW,
    );
    const changes = alertChanges(open(held), [], scopes.portal('p1'));
    expect(changes.resolve.map((a) => a.portalId)).toEqual(['p1']);
  });

  test('the daily pass resolves only date rules', () => {
    const held = evaluate(
      rules,
      facts({ licenses: [license({ available: 10, consumedUnits: 9, nextLifecycleAt: inDays(3) })] }),
      NOW,
    );
    const changes = alertChanges(open(held), [], scopes.dated);
    expect(changes.resolve.map((a) => a.rule)).toEqual(['expiring']);
  });
});

describe('notification destinations', () => {
  const resolveTo = (address: string) => () => Promise.resolve([{ address, family: address.includes(':') ? 6 : 4 }]);

  test('refuses http, loopback, private, link-local and metadata addresses', async () => {
    const refused = [
      ['http://hooks.example.com/x', resolveTo('93.184.216.34')],
      ['https://127.0.0.1/x', undefined],
      ['https://169.254.169.254/latest', undefined],
      ['https://[::1]/x', undefined],
      ['https://internal.example.com/x', resolveTo('10.0.0.1')],
      ['https://mapped.example.com/x', resolveTo('::ffff:192.168.1.5')],
    ] as const;
    for (const [url, resolve] of refused) {
      await expect(checkDestination(url, { allowPrivate: false, resolve })).rejects.toMatchObject({
        code: 'channel_url_refused',
      });
    }
  });

  test('accepts a public address and pins it; the operator setting lifts the address check but not https', async () => {
    await expect(
      checkDestination('https://hooks.example.com/x', { allowPrivate: false, resolve: resolveTo('93.184.216.34') }),
    ).resolves.toMatchObject({ address: '93.184.216.34', family: 4 });
    await expect(checkDestination('https://127.0.0.1:8443/hook', { allowPrivate: true })).resolves.toMatchObject({
      address: '127.0.0.1',
    });
    await expect(checkDestination('http://127.0.0.1/hook', { allowPrivate: true })).rejects.toThrow('https');
  });

  test('judges addresses by range', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    expect(isPublicAddress('2606:4700::1111')).toBe(true);
    for (const address of ['192.168.0.1', '172.16.3.4', '100.64.0.1', 'fd00::1', 'fe80::1', '0.0.0.0', 'nonsense'])
      expect(isPublicAddress(address)).toBe(false);
  });

  test('signs the raw body with HMAC-SHA256 in lowercase hex', () => {
    // Known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    expect(signature('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });
});
