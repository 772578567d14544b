import type { Simulator } from './server';
import { skuIdOf } from './ids';
import type { SimLicenseInput, SimSignInActivity, SimTenant, SimUserInput } from './tenant';

/**
 * The built-in demo tenant of local runs: about 25 people of a small company, five plans, and the cases a sync
 * has to handle (aliases, a guest, a disabled account, group-based licenses, a failed group assignment). It is
 * named as simulated everywhere it shows, so nobody mistakes it for a real tenant.
 */

export const DEMO_TENANT_ID = '5e1a0000-d3e0-4c0a-9b5e-00000000c0de';
export const DEMO_DOMAIN = 'contoso-simulated.onmicrosoft.com';
export const DEMO_TENANT_NAME = 'Contoso (simulated)';
/** The app registration the local host's demo portal signs in with. Not a secret: it only opens the simulator. */
export const DEMO_CLIENT_ID = '5e1a0000-a990-4000-8000-00000000de30';
export const DEMO_CLIENT_SECRET = 'simulated-demo-secret-not-a-real-credential';

const SALES_GROUP = '5e1a0000-6000-4000-8000-00000000000a';
const ANALYSTS_GROUP = '5e1a0000-6000-4000-8000-00000000000b';

const DAY_MS = 86_400_000;
/** Demo dates are relative to when the demo starts, so its renewals and sign-ins always look current. */
const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
const signedIn = (daysAgo: number): SimSignInActivity => ({
  lastSignInDateTime: daysFromNow(-daysAgo),
  lastNonInteractiveSignInDateTime: daysFromNow(-daysAgo),
  lastSuccessfulSignInDateTime: daysFromNow(-daysAgo),
});

interface Person {
  first: string;
  last: string;
  licenses: SimLicenseInput[];
  extra?: Partial<SimUserInput>;
}

const E3: SimLicenseInput = { sku: 'ENTERPRISEPACK' };
const BP: SimLicenseInput = { sku: 'SPB' };
const E1: SimLicenseInput = { sku: 'STANDARDPACK' };
const PBI: SimLicenseInput = { sku: 'POWER_BI_PRO' };
const PBI_VIA_ANALYSTS: SimLicenseInput = { sku: 'POWER_BI_PRO', groups: [ANALYSTS_GROUP] };

const PEOPLE: Person[] = [
  {
    first: 'Megan',
    last: 'Bowen',
    licenses: [E3, PBI],
    extra: { aliases: ['m.bowen@contoso-simulated.onmicrosoft.com'] },
  },
  { first: 'Alex', last: 'Wilber', licenses: [E3] },
  { first: 'Adele', last: 'Vance', licenses: [E3, PBI_VIA_ANALYSTS] },
  { first: 'Diego', last: 'Siciliani', licenses: [BP] },
  { first: 'Grady', last: 'Archie', licenses: [BP, PBI] },
  // Has not signed in for months: an inactive holder of an E3 seat.
  { first: 'Isaiah', last: 'Langer', licenses: [E3], extra: { signInActivity: signedIn(140) } },
  { first: 'Johanna', last: 'Lorenz', licenses: [E3, PBI_VIA_ANALYSTS] },
  { first: 'Joni', last: 'Sherman', licenses: [E1] },
  {
    first: 'Lee',
    last: 'Gu',
    licenses: [E3],
    extra: { aliases: ['lee@contoso-simulated.onmicrosoft.com', 'lgu@contoso-simulated.onmicrosoft.com'] },
  },
  { first: 'Lidia', last: 'Holloway', licenses: [BP] },
  { first: 'Lynne', last: 'Robbins', licenses: [E1] },
  { first: 'Miriam', last: 'Graham', licenses: [E3, PBI] },
  { first: 'Nestor', last: 'Wilke', licenses: [BP] },
  { first: 'Patti', last: 'Fernandez', licenses: [E3] },
  { first: 'Pradeep', last: 'Gupta', licenses: [E1, PBI_VIA_ANALYSTS] },
  { first: 'Henrietta', last: 'Mueller', licenses: [E3], extra: { signInActivity: signedIn(100) } },
  { first: 'Irvin', last: 'Sayers', licenses: [BP] },
  { first: 'Christie', last: 'Cline', licenses: [E1] },
  // Got a seat half a year ago and never signed in.
  {
    first: 'Debra',
    last: 'Berger',
    licenses: [E3],
    extra: { signInActivity: null, createdDateTime: daysFromNow(-180) },
  },
  { first: 'Enrico', last: 'Cattaneo', licenses: [E1] },
  // Joined Sales, whose group license ran out of E3 seats: the assignment failed (CountViolation), so she holds
  // only her direct E1; the failure shows in licenseAssignmentStates.
  {
    first: 'Emily',
    last: 'Braun',
    licenses: [E1, { sku: 'ENTERPRISEPACK', groups: [{ groupId: SALES_GROUP, error: 'CountViolation' }] }],
  },
  // Holds E3 both directly and through Sales.
  { first: 'Allan', last: 'Deyoung', licenses: [{ sku: 'ENTERPRISEPACK', direct: true, groups: [SALES_GROUP] }] },
  // Left the company: the account is disabled but still holds its license.
  {
    first: 'Ben',
    last: 'Walters',
    licenses: [E3],
    extra: { accountEnabled: false, jobTitle: 'Former sales manager', signInActivity: signedIn(200) },
  },
  // No mailbox: only the user principal name identifies him.
  { first: 'Cameron', last: 'White', licenses: [E1], extra: { mail: null } },
];

export function demoUsers(): SimUserInput[] {
  const users: SimUserInput[] = PEOPLE.map((person, index) => {
    const local = `${person.first}${person.last[0]}`.toLowerCase();
    return {
      id: `5e1a0000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`,
      displayName: `${person.first} ${person.last}`,
      userPrincipalName: `${local}@${DEMO_DOMAIN}`,
      givenName: person.first,
      surname: person.last,
      licenses: person.licenses,
      ...person.extra,
    };
  });
  // An external consultant invited as a guest.
  users.push({
    id: '5e1a0000-0000-4000-8000-0000000000ff',
    displayName: 'Rosa Delgado (Fabrikam, simulated guest)',
    userPrincipalName: `rosa.delgado_fabrikam.example#EXT#@${DEMO_DOMAIN}`,
    mail: 'rosa.delgado@fabrikam.example',
    userType: 'Guest',
    licenses: [{ sku: 'POWER_BI_PRO' }],
  });
  return users;
}

/** Adds the demo tenant to a running simulator. */
export function addDemoTenant(simulator: Simulator): SimTenant {
  return simulator.addTenant({
    tenantId: DEMO_TENANT_ID,
    displayName: DEMO_TENANT_NAME,
    domains: [DEMO_DOMAIN],
    apps: [
      {
        clientId: DEMO_CLIENT_ID,
        displayName: 'License sync (simulated)',
        clientSecret: DEMO_CLIENT_SECRET,
        // AuditLog.Read.All: the demo portal reads sign-in activity.
        permissions: ['Organization.Read.All', 'User.Read.All', 'AuditLog.Read.All'],
      },
    ],
    plans: [
      // A yearly commitment renewing in a month and a monthly top-up renewing within three weeks, while four of
      // the twelve holders are disabled or inactive: the demo's "Renewals" (right-size) recommendation.
      {
        skuPartNumber: 'ENTERPRISEPACK',
        subscriptions: [
          { units: 10, createdDateTime: daysFromNow(32 - 365), nextLifecycleDateTime: daysFromNow(32) },
          { units: 2, createdDateTime: daysFromNow(18 - 91), nextLifecycleDateTime: daysFromNow(18) },
        ],
      },
      {
        skuPartNumber: 'SPB',
        subscriptions: [
          { units: 6, nextLifecycleDateTime: daysFromNow(120) },
          { units: 2, status: 'Warning', nextLifecycleDateTime: daysFromNow(9) },
        ],
      },
      // Low stock: 8 seats, 7 held.
      { skuPartNumber: 'STANDARDPACK', subscriptions: [{ units: 8, nextLifecycleDateTime: daysFromNow(200) }] },
      // A trial, ending in about a month (with the 18- and 9-day renewals: the demo's "expiring" alerts).
      {
        skuPartNumber: 'POWER_BI_PRO',
        subscriptions: [{ units: 10, isTrial: true, nextLifecycleDateTime: daysFromNow(30) }],
      },
      // Bought once, then not renewed: in its grace period after expiry.
      {
        skuPartNumber: 'VISIOCLIENT',
        subscriptions: [
          { units: 5, status: 'Suspended', nextLifecycleDateTime: daysFromNow(25) },
          { units: 3, status: 'Deleted' },
        ],
      },
    ],
    users: demoUsers(),
  });
}

/**
 * The demo's price list (list prices of the plans, as an admin would enter them): a yearly and monthly ones, and
 * a second currency, so the waste view shows money and separate totals. Only the local host sets these, for the
 * demo; a real tenant's prices are the admin's to enter.
 */
export function demoPriceList(): {
  skuId: string;
  price: { amount: string; currency: string; period: 'month' | 'year' };
}[] {
  const price = (sku: string, amount: string, currency: string, period: 'month' | 'year') => ({
    skuId: skuIdOf(sku),
    price: { amount, currency, period },
  });
  return [
    price('ENTERPRISEPACK', '276', 'USD', 'year'),
    price('SPB', '22', 'USD', 'month'),
    price('STANDARDPACK', '10', 'USD', 'month'),
    price('POWER_BI_PRO', '9.40', 'EUR', 'month'),
    price('VISIOCLIENT', '15', 'USD', 'month'),
  ];
}
