import type { SubscribedSku, User } from '@microsoft/microsoft-graph-types';
import { toTenantPlan, toTenantUser, userAddresses } from './users';

const E3 = '6fd2c87f-b296-42f0-b197-1e91e994b900';
const BP = 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46';
const SALES = 'aaaaaaaa-0000-4000-8000-000000000001';
const ANALYSTS = 'bbbbbbbb-0000-4000-8000-000000000002';

function user(overrides: Partial<User> = {}): User {
  return {
    id: '0C8E7B1A-0000-4000-8000-000000000001',
    displayName: 'Megan Bowen',
    mail: 'Megan.Bowen@Contoso.com',
    userPrincipalName: 'meganb@contoso.onmicrosoft.com',
    proxyAddresses: [
      'SMTP:Megan.Bowen@Contoso.com',
      'smtp:megan@contoso.com',
      'x500:/o=ExchangeLabs/cn=Recipients/cn=megan',
      'sip:megan@contoso.com',
    ],
    accountEnabled: true,
    userType: 'Member',
    assignedLicenses: [],
    licenseAssignmentStates: [],
    ...overrides,
  };
}

describe('user addresses', () => {
  test('are mail, UPN and the smtp proxies, lower-cased and without duplicates', () => {
    expect(userAddresses(user())).toEqual([
      'megan.bowen@contoso.com',
      'meganb@contoso.onmicrosoft.com',
      'megan@contoso.com',
    ]);
  });

  test('ignore x500, sip and other proxy kinds', () => {
    expect(userAddresses(user()).some((a) => a.includes('x500') || a.startsWith('sip'))).toBe(false);
  });

  test('of a user without a mailbox are the UPN alone, which is also the primary e-mail', () => {
    const mapped = toTenantUser(user({ mail: null, proxyAddresses: [] }));
    expect(mapped.addresses).toEqual(['meganb@contoso.onmicrosoft.com']);
    expect(mapped.primaryEmail).toBe('meganb@contoso.onmicrosoft.com');
  });

  test('keep the original case of the primary e-mail', () => {
    expect(toTenantUser(user()).primaryEmail).toBe('Megan.Bowen@Contoso.com');
  });
});

describe('user plans', () => {
  test('a direct assignment is direct, via no group, with its state', () => {
    const mapped = toTenantUser(
      user({
        assignedLicenses: [{ skuId: E3, disabledPlans: [] }],
        licenseAssignmentStates: [
          { skuId: E3, assignedByGroup: null, state: 'Active', error: 'None', disabledPlans: [] },
        ],
      }),
    );
    expect(mapped.plans).toEqual([
      { skuId: E3, assignedDirectly: true, assignedViaGroups: [], state: 'Active', error: 'None' },
    ]);
  });

  test('a license held directly and through groups names every group and takes the direct state', () => {
    const mapped = toTenantUser(
      user({
        assignedLicenses: [{ skuId: E3, disabledPlans: [] }],
        licenseAssignmentStates: [
          {
            skuId: E3,
            assignedByGroup: SALES.toUpperCase(),
            state: 'ActiveWithSolutionIssues',
            error: 'MutuallyExclusiveViolation',
          },
          { skuId: E3, assignedByGroup: null, state: 'Active', error: 'None' },
          { skuId: E3, assignedByGroup: ANALYSTS, state: 'Active', error: 'None' },
        ],
      }),
    );
    expect(mapped.plans).toEqual([
      { skuId: E3, assignedDirectly: true, assignedViaGroups: [SALES, ANALYSTS], state: 'Active', error: 'None' },
    ]);
  });

  test('a license held only through a group is not direct and takes the group state and error', () => {
    const mapped = toTenantUser(
      user({
        assignedLicenses: [{ skuId: BP }],
        licenseAssignmentStates: [
          { skuId: BP, assignedByGroup: SALES, state: 'ActiveWithSolutionIssues', error: 'DependencyViolation' },
        ],
      }),
    );
    expect(mapped.plans).toEqual([
      {
        skuId: BP,
        assignedDirectly: false,
        assignedViaGroups: [SALES],
        state: 'ActiveWithSolutionIssues',
        error: 'DependencyViolation',
      },
    ]);
  });

  test('a group assignment that failed (CountViolation) is not a plan the user holds, but a failed plan', () => {
    const mapped = toTenantUser(
      user({
        assignedLicenses: [{ skuId: BP }],
        licenseAssignmentStates: [
          { skuId: BP, assignedByGroup: null, state: 'Active', error: 'None' },
          { skuId: E3, assignedByGroup: SALES, state: 'Error', error: 'CountViolation' },
        ],
      }),
    );
    expect(mapped.plans.map((p) => p.skuId)).toEqual([BP]);
    expect(mapped.failedPlans).toEqual([{ skuId: E3, error: 'CountViolation' }]);
  });

  test('without assignment states a held license counts as direct and active', () => {
    const mapped = toTenantUser(
      user({ assignedLicenses: [{ skuId: E3.toUpperCase() }], licenseAssignmentStates: undefined }),
    );
    expect(mapped.plans).toEqual([
      { skuId: E3, assignedDirectly: true, assignedViaGroups: [], state: 'Active', error: 'None' },
    ]);
  });
});

describe('user flags', () => {
  test('guests and disabled accounts keep their type and state', () => {
    const guest = toTenantUser(
      user({
        userType: 'Guest',
        accountEnabled: false,
        userPrincipalName: 'rosa_fabrikam.example#EXT#@contoso.onmicrosoft.com',
      }),
    );
    expect([guest.userType, guest.accountEnabled]).toEqual(['Guest', false]);
  });

  test('the object id is lower-cased and the display name falls back to the UPN', () => {
    const mapped = toTenantUser(user({ displayName: null }));
    expect(mapped.objectId).toBe('0c8e7b1a-0000-4000-8000-000000000001');
    expect(mapped.displayName).toBe('meganb@contoso.onmicrosoft.com');
  });
});

describe('plans', () => {
  test('take counts from prepaidUnits and consumedUnits', () => {
    const sku: SubscribedSku = {
      id: 'tenant_sku',
      skuId: E3,
      skuPartNumber: 'ENTERPRISEPACK',
      capabilityStatus: 'Warning',
      appliesTo: 'User',
      consumedUnits: 14,
      prepaidUnits: { enabled: 12, warning: 3, suspended: 1, lockedOut: 0 },
      servicePlans: [],
    };
    expect(toTenantPlan(sku)).toEqual({
      skuId: E3,
      skuPartNumber: 'ENTERPRISEPACK',
      capabilityStatus: 'Warning',
      appliesTo: 'User',
      consumedUnits: 14,
      prepaidUnits: { enabled: 12, warning: 3, suspended: 1, lockedOut: 0 },
    });
  });

  test('missing numbers are zero', () => {
    expect(toTenantPlan({ skuId: BP, skuPartNumber: 'SPB' }).prepaidUnits).toEqual({
      enabled: 0,
      warning: 0,
      suspended: 0,
      lockedOut: 0,
    });
  });
});
