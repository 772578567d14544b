import { isInactive, lastSignInAt, NO_SIGN_IN } from './activity';
import { licensedUsersOfMonth, oldestKeptDay, defaultHistoryRange } from './history';
import { amountSchema, monthlyUnitPrice, priceInputSchema, cents } from './money';
import { inferTerm, planRenewals, recommendedPlanSeats, renewals, splitRecommendation } from './renewals';
import { subscriptionsBySku, type LicenseSubscription } from './subscriptions';
import { countHolders, wasteReport } from './waste';

const NOW = new Date('2026-11-29T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
const daysAhead = (days: number) => new Date(NOW.getTime() + days * 86_400_000).toISOString();

describe('subscriptions of a license', () => {
  const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
  const grouped = subscriptionsBySku([
    { id: 'A', skuId: E3.toUpperCase(), status: 'Enabled', totalLicenses: 10, nextLifecycleDateTime: daysAhead(200) },
    { id: 'b', skuId: E3, status: 'Warning', totalLicenses: 5, isTrial: true, nextLifecycleDateTime: daysAhead(20) },
    { id: 'c', skuId: E3, status: 'Deleted', totalLicenses: 3, nextLifecycleDateTime: daysAhead(1) },
    { id: 'd', skuId: 'other', status: 'Enabled', totalLicenses: 1 },
  ]);

  test('joins on the skuId, lists Deleted ones too, soonest renewal first', () => {
    const e3 = grouped.get(E3)!;
    expect(e3.subscriptions.map((s) => [s.id, s.status])).toEqual([
      ['c', 'Deleted'],
      ['b', 'Warning'],
      ['a', 'Enabled'],
    ]);
  });

  test('nextLifecycleAt is the earliest of the subscriptions that are not Deleted', () => {
    expect(grouped.get(E3)!.nextLifecycleAt).toBe(daysAhead(20));
  });

  test('a plan is a trial when any live subscription is one, and not for a Deleted trial', () => {
    expect(grouped.get(E3)!.trial).toBe(true);
    const deletedTrial = subscriptionsBySku([{ id: 'x', skuId: 's', status: 'Deleted', isTrial: true }]);
    expect(deletedTrial.get('s')).toEqual({ subscriptions: [expect.objectContaining({ id: 'x' })], trial: false });
  });
});

describe('sign-in activity', () => {
  test('takes the last successful sign-in first', () => {
    expect(
      lastSignInAt({
        lastSuccessfulSignInDateTime: '2026-10-01T00:00:00Z',
        lastSignInDateTime: '2026-11-01T00:00:00Z',
      }),
    ).toBe('2026-10-01T00:00:00.000Z');
  });

  test('else the newer of the interactive and non-interactive sign-in, ignoring 0001-01-01', () => {
    expect(
      lastSignInAt({
        lastSuccessfulSignInDateTime: NO_SIGN_IN,
        lastSignInDateTime: '2026-09-01T00:00:00Z',
        lastNonInteractiveSignInDateTime: '2026-11-02T00:00:00Z',
      }),
    ).toBe('2026-11-02T00:00:00.000Z');
  });

  test('none for null activity or only 0001-01-01', () => {
    expect(lastSignInAt(null)).toBeUndefined();
    expect(lastSignInAt({ lastSignInDateTime: NO_SIGN_IN, lastNonInteractiveSignInDateTime: NO_SIGN_IN })).toBe(
      undefined,
    );
  });

  test('inactive after inactiveDays without a sign-in; active within them', () => {
    expect(isInactive({ lastSignInAt: daysAgo(91) }, 90, NOW)).toBe(true);
    expect(isInactive({ lastSignInAt: daysAgo(89) }, 90, NOW)).toBe(false);
  });

  test('never signed in: inactive only when created longer ago than inactiveDays', () => {
    expect(isInactive({ createdAt: daysAgo(100) }, 90, NOW)).toBe(true);
    expect(isInactive({ createdAt: daysAgo(10) }, 90, NOW)).toBe(false);
  });
});

describe('prices', () => {
  test('amounts stay exact decimal text, from numbers or strings', () => {
    expect(amountSchema.parse(0.1)).toBe('0.1');
    expect(amountSchema.parse('19.990')).toBe('19.99');
    expect(priceInputSchema.parse({ amount: 36, currency: 'eur', period: 'year' })).toEqual({
      amount: '36',
      currency: 'EUR',
      period: 'year',
    });
  });

  test('refuses negative, non-numeric, too precise amounts and odd currencies', () => {
    for (const amount of [-1, 'ten', '1.0000001', 'Infinity'])
      expect(amountSchema.safeParse(amount).success).toBe(false);
    expect(priceInputSchema.safeParse({ amount: 1, currency: 'EURO', period: 'month' }).success).toBe(false);
    expect(priceInputSchema.safeParse({ amount: 1, currency: 'EUR', period: 'week' }).success).toBe(false);
  });

  test('a yearly price counts as a twelfth per month, rounded to cents only when shown', () => {
    const unit = monthlyUnitPrice({ amount: '100', currency: 'USD', period: 'year' });
    expect(unit.toFixed(10)).toBe('8.3333333333');
    expect(cents(unit)).toBe(8.33);
    expect(cents(unit.times(12))).toBe(100);
  });
});

describe('waste', () => {
  test('counts a holder both disabled and inactive once, as disabled; guests separately', () => {
    expect(
      countHolders([
        { accountEnabled: false, userType: 'Member', inactive: true },
        { accountEnabled: true, userType: 'Member', inactive: true },
        { accountEnabled: true, userType: 'Guest', inactive: false },
        { accountEnabled: true, userType: 'Member' },
      ]),
    ).toEqual({ disabledHolders: 1, inactiveHolders: 1, guestHolders: 1 });
  });

  test('reclaimable money is (unassigned + disabled + inactive) x the monthly unit price, totals per currency', () => {
    const report = wasteReport(
      [
        {
          licenseId: 'e3',
          licenseName: 'A - E3',
          portalId: 'p',
          available: 20,
          consumedUnits: 15,
          price: { amount: '36', currency: 'EUR', period: 'month' },
        },
        {
          licenseId: 'bp',
          licenseName: 'A - Business Premium',
          portalId: 'p',
          available: 10,
          consumedUnits: 12,
          price: { amount: '264', currency: 'USD', period: 'year' },
        },
        {
          licenseId: 'e1',
          licenseName: 'A - E1',
          portalId: 'p',
          available: 8,
          consumedUnits: 2,
          price: { amount: '10', currency: 'EUR', period: 'month' },
        },
        { licenseId: 'free', licenseName: 'A - Flow', portalId: 'p', available: 100, consumedUnits: 1 },
      ],
      (id) =>
        id === 'e3'
          ? { disabledHolders: 2, inactiveHolders: 1, guestHolders: 1 }
          : { disabledHolders: 0, inactiveHolders: id === 'bp' ? 3 : 0, guestHolders: 0 },
    );
    const byId = Object.fromEntries(report.items.map((item) => [item.licenseId, item]));
    expect(byId.e3).toMatchObject({ unassigned: 5, monthlyUnitPrice: 36, monthlyCost: 720, reclaimableMonthly: 288 });
    expect(byId.bp).toMatchObject({ unassigned: 0, monthlyUnitPrice: 22, monthlyCost: 220, reclaimableMonthly: 66 });
    expect(byId.free).toEqual({
      licenseId: 'free',
      licenseName: 'A - Flow',
      portalId: 'p',
      unassigned: 99,
      disabledHolders: 0,
      inactiveHolders: 0,
      guestHolders: 0,
    });
    expect(report.totals).toEqual({
      EUR: { monthlyCost: 800, reclaimableMonthly: 348 },
      USD: { monthlyCost: 220, reclaimableMonthly: 66 },
    });
    expect(report.items.map((item) => item.licenseId)).toEqual(['e3', 'bp', 'e1', 'free']);
  });
});

describe('history and the billing figure', () => {
  test('peak and last licensed users of a month; no item for a month without data', () => {
    const snapshots = [
      { date: '2026-10-31', licensedUsers: 50 },
      { date: '2026-11-03', licensedUsers: 40 },
      { date: '2026-11-01', licensedUsers: 42 },
      { date: '2026-11-15', licensedUsers: 47 },
      { date: '2026-11-28', licensedUsers: 44 },
    ];
    expect(licensedUsersOfMonth(snapshots, '2026-11')).toEqual({
      month: '2026-11',
      peakLicensedUsers: 47,
      lastLicensedUsers: 44,
    });
    expect(licensedUsersOfMonth(snapshots, '2026-09')).toBeUndefined();
  });

  test('keeps 25 months and shows the last 12 by default', () => {
    expect(oldestKeptDay(new Date('2026-11-29T00:00:00Z'))).toBe('2024-10-29');
    expect(oldestKeptDay(new Date('2027-03-31T00:00:00Z'))).toBe('2025-02-28');
    expect(defaultHistoryRange(new Date('2026-11-29T10:00:00Z'))).toEqual({ from: '2025-11-29', to: '2026-11-29' });
  });
});

describe('right-size before renewal', () => {
  const sub = (id: string, total: number, renewsIn: number | undefined, extra: Partial<LicenseSubscription> = {}) =>
    ({
      id,
      status: 'Enabled',
      totalLicenses: total,
      isTrial: false,
      ...(renewsIn === undefined ? {} : { nextLifecycleAt: daysAhead(renewsIn) }),
      ...extra,
    }) satisfies LicenseSubscription;

  test('the buffer is the larger of its percentage (rounded up) and its minimum', () => {
    expect(recommendedPlanSeats(100, { bufferPercent: 5, bufferMin: 1 })).toBe(105);
    expect(recommendedPlanSeats(10, { bufferPercent: 5, bufferMin: 1 })).toBe(11);
    expect(recommendedPlanSeats(10, { bufferPercent: 5, bufferMin: 3 })).toBe(13);
    expect(recommendedPlanSeats(0, { bufferPercent: 0, bufferMin: 0 })).toBe(0);
  });

  test('infers yearly terms from whole years between creation and renewal, else monthly', () => {
    expect(inferTerm({ createdAt: '2024-03-01T00:00:00Z', nextLifecycleAt: '2027-03-01T00:00:00Z' })).toBe('year');
    expect(inferTerm({ createdAt: '2026-03-01T00:00:00Z', nextLifecycleAt: '2026-12-01T00:00:00Z' })).toBe('month');
    expect(inferTerm({ nextLifecycleAt: '2026-12-01T00:00:00Z' })).toBe('month');
  });

  test('splits the seats soonest-renewing last: the later subscription keeps its seats', () => {
    const split = splitRecommendation(
      [sub('monthly', 30, 10), sub('yearly', 20, 200), sub('gone', 9, 5, { status: 'Deleted' })],
      26,
    );
    expect(split).toEqual(
      new Map([
        ['yearly', 20],
        ['monthly', 6],
      ]),
    );
  });

  test('a subscription that will not renew (trial, Warning, Suspended, LockedOut) covers no seats: the paid ones keep them', () => {
    // The grace-period and trial seats lapse at their dates, later than the paid monthly one renews: counted, they
    // would have covered the need and the monthly subscription would have been told to give back all its seats.
    const split = splitRecommendation(
      [
        sub('monthly', 30, 10),
        sub('trial', 50, 300, { isTrial: true }),
        sub('grace', 50, 250, { status: 'Warning' }),
        sub('suspended', 50, 200, { status: 'Suspended' }),
        sub('locked', 50, 150, { status: 'LockedOut' }),
      ],
      26,
    );
    expect(split).toEqual(new Map([['monthly', 26]]));
    const [suspended] = planRenewals(
      {
        portalId: 'p',
        licenseId: 'l',
        subscriptions: [sub('suspended', 5, 25, { status: 'Suspended' })],
        holders: 0,
        activeHolders: 0,
        terms: new Map(),
      },
      { bufferPercent: 5, bufferMin: 1 },
      NOW,
      90,
    );
    // Recommended none: all its seats go at its date (the view labels it; the rightSize alert leaves it out).
    expect(suspended).toMatchObject({ recommendedSeats: 0, seatsToCut: 5 });
  });

  test('never cuts the soonest below what the active holders need beyond the others', () => {
    const split = splitRecommendation([sub('monthly', 30, 10), sub('yearly', 20, 200)], 45);
    expect(split.get('monthly')).toBe(25);
  });

  test('seats to cut and savings over the set or inferred term, in the window only, soonest first', () => {
    const items = renewals(
      [
        {
          portalId: 'p',
          licenseId: 'e3',
          subscriptions: [
            sub('monthly', 30, 10),
            sub('yearly', 20, 60, { createdAt: daysAhead(60 - 365 * 2) }),
            sub('later', 5, 400),
          ],
          holders: 28,
          activeHolders: 24,
          price: { amount: '30', currency: 'EUR', period: 'month' },
          terms: new Map([['monthly', 'threeYears' as const]]),
        },
      ],
      { bufferPercent: 5, bufferMin: 1 },
      NOW,
      90,
    );
    // 24 active + 2 buffer = 26 seats: "later" keeps 5, "yearly" 20, "monthly" the last 1.
    expect(items.map((i) => [i.subscriptionId, i.recommendedSeats, i.seatsToCut, i.term, i.termInferred])).toEqual([
      ['monthly', 1, 29, 'threeYears', undefined],
      ['yearly', 20, 0, 'year', true],
    ]);
    expect(items[0]).toMatchObject({ monthlyUnitPrice: 30, currency: 'EUR', savingsPerTerm: 29 * 30 * 36 });
  });

  test('without a price: seats only, no money', () => {
    const [item] = planRenewals(
      {
        portalId: 'p',
        licenseId: 'l',
        subscriptions: [sub('s', 10, 5)],
        holders: 3,
        activeHolders: 2,
        terms: new Map(),
      },
      { bufferPercent: 0, bufferMin: 0 },
      NOW,
      90,
    );
    expect(item).toMatchObject({ recommendedSeats: 2, seatsToCut: 8 });
    expect(item).not.toHaveProperty('savingsPerTerm');
    expect(item).not.toHaveProperty('currency');
  });
});
