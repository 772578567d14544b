import { randomUUID } from 'node:crypto';
import type { AssignedLicense, LicenseAssignmentState, SubscribedSku, User } from '@microsoft/microsoft-graph-types';
import { GUID_PATTERN, KNOWN_SKUS, guidFrom, prng, skuIdOf } from './ids';
import type { SimFault, SimFaultRule, SimFaultWhen, SimRequestInfo } from './faults';

/**
 * One simulated tenant: its Entra side (domains, app registrations, password users) and its Graph side (plans
 * and users), changeable between runs. Every change bumps a version so /users/delta can report what changed.
 */

export type SubscriptionStatus = 'Enabled' | 'Warning' | 'Suspended' | 'LockedOut' | 'Deleted';

/**
 * One purchased subscription of a plan (a companySubscription in /directory/subscriptions); the non-Deleted ones
 * add up to the plan's prepaidUnits in /subscribedSkus.
 */
export interface SimSubscription {
  units: number;
  status?: SubscriptionStatus;
  /** Defaults to a stable GUID per tenant, plan and position. */
  id?: string;
  commerceSubscriptionId?: string;
  isTrial?: boolean;
  /** ISO date-time; defaults to the simulator's base time. */
  createdDateTime?: string;
  /** ISO date-time of the next renewal, expiry or deletion; null when none is scheduled. Default: null. */
  nextLifecycleDateTime?: string | null;
}

/**
 * A user's signInActivity as Graph reports it. `0001-01-01T00:00:00Z` (Graph's "never") is what a field of a user
 * who never signed in that way holds; null for the whole object: no sign-in recorded at all.
 */
export interface SimSignInActivity {
  lastSignInDateTime?: string;
  lastNonInteractiveSignInDateTime?: string;
  lastSuccessfulSignInDateTime?: string;
}

export const NEVER_SIGNED_IN = '0001-01-01T00:00:00Z';

export interface SimPlanInput {
  skuPartNumber: string;
  /** Defaults to Microsoft's skuId for well-known part numbers, else a stable GUID. */
  skuId?: string;
  /** Defaults from the subscriptions: Enabled if any is, else Warning, else Suspended, else LockedOut. */
  capabilityStatus?: 'Enabled' | 'Warning' | 'Suspended' | 'LockedOut' | 'Deleted';
  appliesTo?: 'User' | 'Company';
  /** Defaults to one Enabled subscription of 25 units. */
  subscriptions?: SimSubscription[];
  /** Defaults to the number of users holding the plan. */
  consumedUnits?: number;
  servicePlans?: { servicePlanId: string; servicePlanName: string; provisioningStatus?: string; appliesTo?: string }[];
}

interface SimPlan extends Required<Omit<SimPlanInput, 'capabilityStatus' | 'consumedUnits'>> {
  capabilityStatus?: SimPlanInput['capabilityStatus'];
  consumedUnits?: number;
}

export interface SimGroupAssignment {
  groupId: string;
  /** Defaults to Error when an error other than None is given, else Active. */
  state?: string;
  /** None, CountViolation, MutuallyExclusiveViolation, DependencyViolation, ProhibitedInUsageLocationViolation, UniquenessViolation, Other */
  error?: string;
}

export interface SimLicenseInput {
  /** skuPartNumber or skuId of a plan of the tenant. */
  sku: string;
  /** Assigned directly; defaults to true when no groups are given. */
  direct?: boolean;
  /** Inherited from these groups (object ids, or assignments with their own state/error). */
  groups?: (string | SimGroupAssignment)[];
  /** State and error of the direct assignment. */
  state?: string;
  error?: string;
  disabledPlans?: string[];
}

interface SimAssignmentState {
  state: string;
  error: string;
}

interface SimLicense {
  skuId: string;
  direct?: SimAssignmentState;
  groups: (SimAssignmentState & { groupId: string })[];
  disabledPlans: string[];
}

export interface SimUserInput {
  id?: string;
  displayName: string;
  userPrincipalName: string;
  /** Defaults to the userPrincipalName for members; null means no mailbox. */
  mail?: string | null;
  /** Extra smtp: addresses (the primary SMTP: one is the mail). */
  aliases?: string[];
  /** Raw proxyAddresses; when given, replaces the ones made from mail and aliases. */
  proxyAddresses?: string[];
  accountEnabled?: boolean;
  userType?: 'Member' | 'Guest';
  givenName?: string | null;
  surname?: string | null;
  jobTitle?: string | null;
  licenses?: SimLicenseInput[];
  /** Defaults to "signed in an hour before the request" for every kind of sign-in. */
  signInActivity?: SimSignInActivity | null;
  /** ISO date-time; defaults to the simulator's clock when the user was added. */
  createdDateTime?: string;
}

interface SimUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  proxyAddresses: string[];
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  givenName: string | null;
  surname: string | null;
  jobTitle: string | null;
  licenses: SimLicense[];
  /** undefined: the default (recent activity). */
  signInActivity?: SimSignInActivity | null;
  createdDateTime: string;
  /** Tenant version of the last change; 0 for untouched generated users. */
  changedAt: number;
}

export interface SimAppInput {
  clientId: string;
  displayName?: string;
  /** Client secret value(s) the app accepts. */
  clientSecret?: string | string[];
  /** Certificates (PEM; a private key in the same PEM is ignored) whose keys may sign client assertions. */
  certificates?: string[];
  /** Application permissions with admin consent. Defaults to Organization.Read.All and User.Read.All. */
  permissions?: string[];
}

interface SimApp {
  clientId: string;
  displayName: string;
  secrets: string[];
  certificates: string[];
  permissions: string[];
}

export interface SimPasswordUserInput {
  username: string;
  password: string;
  /** `required`: AADSTS50076 (must use MFA); `enroll`: AADSTS50079 (must register for MFA). */
  mfa?: false | 'required' | 'enroll';
}

export interface SimGeneratedInput {
  /** Number of users, generated lazily page by page (never all held in memory). */
  users: number;
  /** Number of plans; each user holds one or two of them (about 1.5 on average). */
  plans: number;
  seed?: number;
}

/** A mail sent through the simulated sendMail. */
export interface SentMail {
  from: string;
  message: {
    subject?: string;
    body?: { contentType?: string; content?: string };
    toRecipients?: { emailAddress?: { address?: string } }[];
  };
  saveToSentItems?: boolean;
}

export interface SimTenantInput {
  tenantId?: string;
  displayName?: string;
  /** Verified domains; the first is the default one. Defaults to `<name>.onmicrosoft.com`. */
  domains?: string[];
  apps?: SimAppInput[];
  passwordUsers?: SimPasswordUserInput[];
  plans?: SimPlanInput[];
  users?: SimUserInput[];
  generated?: SimGeneratedInput;
  /** Page size of /users without $top and of /users/delta without a Prefer: odata.maxpagesize. Default 100. */
  defaultPageSize?: number;
  /**
   * Changed users in a delta round carry only some of the selected properties, as Graph may answer ("at least
   * the properties that have been updated"): here id, displayName and userPrincipalName, never the licenses.
   */
  deltaChangedPropertiesOnly?: boolean;
  /**
   * Whether the tenant has Entra ID P1 or P2, which Graph requires for signInActivity (without it: 403
   * Authentication_RequestFromNonPremiumTenantOrB2CTenant). Default true.
   */
  premium?: boolean;
}

export interface UserPage {
  users: User[];
  /** Position to continue from, or undefined at the end. */
  next?: number;
}

export interface DeltaItem {
  key: string;
  user?: User;
  removed?: { id: string; reason: 'changed' | 'deleted' };
}

const BASE_TIME = Date.UTC(2024, 0, 15, 9, 0, 0);
const DEFAULT_PERMISSIONS = ['Organization.Read.All', 'User.Read.All'];
const GENERATED_PLAN_ORDER = [
  'ENTERPRISEPACK',
  'SPB',
  'STANDARDPACK',
  'POWER_BI_PRO',
  'SPE_E3',
  'SPE_E5',
  'EMS',
  'FLOW_FREE',
  'VISIOCLIENT',
  'PROJECTPROFESSIONAL',
];

function isoAt(version: number): string {
  return new Date(BASE_TIME + version * 60_000).toISOString().replace('.000Z', 'Z');
}

function lower(value: string): string {
  return value.toLowerCase();
}

export class SimTenant {
  readonly tenantId: string;
  readonly displayName: string;
  readonly domains: string[];
  readonly defaultPageSize: number;
  /** See SimTenantInput.deltaChangedPropertiesOnly (tests may switch it). */
  deltaChangedPropertiesOnly: boolean;
  /** See SimTenantInput.premium (tests may switch it). */
  premium: boolean;
  /** Mail sent through POST /users/{id}/sendMail, oldest first. */
  readonly sentMail: SentMail[] = [];

  private version = 0;
  private deltaEpoch = 0;
  private readonly apps = new Map<string, SimApp>();
  private readonly passwordUsers = new Map<string, Required<SimPasswordUserInput>>();
  private readonly plans = new Map<string, SimPlan>();
  /** Explicit users in creation order; a deleted one leaves an empty slot so positions stay stable. */
  private readonly slots: (SimUser | undefined)[] = [];
  private readonly slotById = new Map<string, number>();
  private readonly generated?: Required<SimGeneratedInput> & { idPrefix: string; skuIds: string[] };
  /** Generated users that were changed (a user) or deleted (null). */
  private readonly overrides = new Map<number, SimUser | null>();
  private readonly tombstones = new Map<string, { deletedAt: number; reason: 'changed' | 'deleted' }>();
  private readonly faults: SimFaultRule[] = [];
  private consumedCache?: { version: number; counts: Map<string, number> };

  constructor(
    input: SimTenantInput,
    private readonly countRequests: (tenantId: string, path?: string | RegExp) => number,
  ) {
    this.displayName = input.displayName ?? 'Simulated tenant';
    this.tenantId = (input.tenantId ?? guidFrom('tenant', this.displayName, randomUUID())).toLowerCase();
    if (!GUID_PATTERN.test(this.tenantId)) throw new Error(`tenantId must be a GUID: ${this.tenantId}`);
    const slug =
      this.displayName
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '')
        .slice(0, 20) || 'tenant';
    this.domains = (input.domains ?? [`${slug}${this.tenantId.replace(/-/g, '').slice(0, 10)}.onmicrosoft.com`]).map(
      lower,
    );
    this.defaultPageSize = input.defaultPageSize ?? 100;
    this.deltaChangedPropertiesOnly = input.deltaChangedPropertiesOnly ?? false;
    this.premium = input.premium ?? true;
    for (const app of input.apps ?? []) this.addApp(app);
    for (const user of input.passwordUsers ?? []) this.addPasswordUser(user);
    for (const plan of input.plans ?? []) this.addPlan(plan);
    if (input.generated) {
      const seed = input.generated.seed ?? 1;
      const skuIds: string[] = [];
      for (let i = 0; i < input.generated.plans; i++) {
        const partNumber = GENERATED_PLAN_ORDER[i] ?? `SIMULATED_PLAN_${i + 1}`;
        const expected = Math.ceil((input.generated.users * 1.5) / input.generated.plans);
        skuIds.push(
          this.addPlan({ skuPartNumber: partNumber, subscriptions: [{ units: Math.ceil(expected * 1.2) + 5 }] }),
        );
      }
      const prefix = guidFrom('generated', this.tenantId, seed).slice(0, 23);
      this.generated = { ...input.generated, seed, skuIds, idPrefix: prefix };
    }
    for (const user of input.users ?? []) this.addUser(user);
    this.version = 0; // the initial content is the starting point, not a change
    for (const slot of this.slots) if (slot) slot.changedAt = 0;
  }

  // ---- Entra side -------------------------------------------------------------------------------------------

  /** A tenant is addressed by its GUID or any verified domain. */
  answersTo(tenant: string): boolean {
    const t = tenant.toLowerCase();
    return t === this.tenantId || this.domains.includes(t);
  }

  addApp(input: SimAppInput): void {
    const secrets =
      input.clientSecret === undefined
        ? []
        : Array.isArray(input.clientSecret)
          ? input.clientSecret
          : [input.clientSecret];
    this.apps.set(input.clientId.toLowerCase(), {
      clientId: input.clientId,
      displayName: input.displayName ?? 'License sync',
      secrets,
      certificates: input.certificates ?? [],
      permissions: input.permissions ?? DEFAULT_PERMISSIONS,
    });
  }

  updateApp(clientId: string, patch: Partial<Omit<SimAppInput, 'clientId'>>): void {
    const app = this.apps.get(clientId.toLowerCase());
    if (!app) throw new Error(`No app ${clientId}`);
    this.addApp({
      clientId: app.clientId,
      displayName: patch.displayName ?? app.displayName,
      clientSecret: patch.clientSecret ?? app.secrets,
      certificates: patch.certificates ?? app.certificates,
      permissions: patch.permissions ?? app.permissions,
    });
  }

  removeApp(clientId: string): void {
    this.apps.delete(clientId.toLowerCase());
  }

  app(clientId: string): Readonly<SimApp> | undefined {
    return this.apps.get(clientId.toLowerCase());
  }

  addPasswordUser(input: SimPasswordUserInput): void {
    this.passwordUsers.set(input.username.toLowerCase(), { mfa: false, ...input });
  }

  passwordUser(username: string): Readonly<Required<SimPasswordUserInput>> | undefined {
    return this.passwordUsers.get(username.toLowerCase());
  }

  // ---- plans --------------------------------------------------------------------------------------------------

  addPlan(input: SimPlanInput): string {
    const skuId = (input.skuId ?? skuIdOf(input.skuPartNumber)).toLowerCase();
    this.plans.set(skuId, {
      skuId,
      skuPartNumber: input.skuPartNumber,
      capabilityStatus: input.capabilityStatus,
      appliesTo: input.appliesTo ?? 'User',
      subscriptions: input.subscriptions ?? [{ units: 25, status: 'Enabled' }],
      consumedUnits: input.consumedUnits,
      servicePlans: input.servicePlans ?? [
        {
          servicePlanId: guidFrom('serviceplan', skuId, 1),
          servicePlanName: `${input.skuPartNumber}_CORE`,
          provisioningStatus: 'Success',
          appliesTo: 'User',
        },
      ],
    });
    return skuId;
  }

  updatePlan(sku: string, patch: Partial<Omit<SimPlanInput, 'skuId'>>): void {
    const plan = this.planOf(sku);
    Object.assign(plan, Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)));
  }

  removePlan(sku: string): void {
    this.plans.delete(this.planOf(sku).skuId);
  }

  skuIdOf(sku: string): string {
    return this.planOf(sku).skuId;
  }

  private planOf(sku: string): SimPlan {
    const bySkuId = this.plans.get(sku.toLowerCase());
    if (bySkuId) return bySkuId;
    for (const plan of this.plans.values()) if (plan.skuPartNumber.toLowerCase() === sku.toLowerCase()) return plan;
    // A license may name a plan the tenant no longer has: resolve well-known part numbers anyway.
    const known = KNOWN_SKUS[sku];
    if (known) return { skuId: known, skuPartNumber: sku, appliesTo: 'User', subscriptions: [], servicePlans: [] };
    throw new Error(`No plan ${sku} in tenant ${this.displayName}`);
  }

  subscribedSkus(): SubscribedSku[] {
    const consumed = this.consumedCounts();
    return [...this.plans.values()].map((plan) => {
      const units = { enabled: 0, warning: 0, suspended: 0, lockedOut: 0 };
      for (const subscription of plan.subscriptions) {
        const status = subscription.status ?? 'Enabled';
        if (status === 'Deleted') continue;
        const key =
          status === 'Enabled'
            ? 'enabled'
            : status === 'Warning'
              ? 'warning'
              : status === 'Suspended'
                ? 'suspended'
                : 'lockedOut';
        units[key] += subscription.units;
      }
      const capabilityStatus =
        plan.capabilityStatus ??
        (units.enabled > 0
          ? 'Enabled'
          : units.warning > 0
            ? 'Warning'
            : units.suspended > 0
              ? 'Suspended'
              : 'LockedOut');
      return {
        accountId: this.tenantId,
        accountName: this.displayName,
        appliesTo: plan.appliesTo,
        capabilityStatus,
        consumedUnits: plan.consumedUnits ?? consumed.get(plan.skuId) ?? 0,
        id: `${this.tenantId}_${plan.skuId}`,
        skuId: plan.skuId,
        skuPartNumber: plan.skuPartNumber,
        subscriptionIds: plan.subscriptions.map((subscription, index) =>
          this.subscriptionId(plan, subscription, index),
        ),
        prepaidUnits: units,
        servicePlans: plan.servicePlans.map((servicePlan) => ({
          servicePlanId: servicePlan.servicePlanId,
          servicePlanName: servicePlan.servicePlanName,
          provisioningStatus: servicePlan.provisioningStatus ?? 'Success',
          appliesTo: servicePlan.appliesTo ?? 'User',
        })),
      };
    });
  }

  /** GET /directory/subscriptions: one companySubscription per subscription of every plan, Deleted ones too. */
  companySubscriptions(): Record<string, unknown>[] {
    return [...this.plans.values()].flatMap((plan) =>
      plan.subscriptions.map((subscription, index) => {
        const id = this.subscriptionId(plan, subscription, index);
        return {
          id,
          commerceSubscriptionId: subscription.commerceSubscriptionId ?? guidFrom('commerce', id),
          createdDateTime: subscription.createdDateTime ?? isoAt(0),
          isTrial: subscription.isTrial ?? false,
          nextLifecycleDateTime: subscription.nextLifecycleDateTime ?? null,
          ownerId: null,
          ownerTenantId: null,
          ownerType: null,
          serviceStatus: plan.servicePlans.map((servicePlan) => ({
            servicePlanId: servicePlan.servicePlanId,
            servicePlanName: servicePlan.servicePlanName,
            provisioningStatus: servicePlan.provisioningStatus ?? 'Success',
            appliesTo: servicePlan.appliesTo ?? 'User',
          })),
          skuId: plan.skuId,
          skuPartNumber: plan.skuPartNumber,
          status: subscription.status ?? 'Enabled',
          totalLicenses: subscription.units,
        };
      }),
    );
  }

  private subscriptionId(plan: SimPlan, subscription: SimSubscription, index: number): string {
    return (subscription.id ?? guidFrom('subscription', this.tenantId, plan.skuId, index)).toLowerCase();
  }

  private consumedCounts(): Map<string, number> {
    if (this.consumedCache?.version === this.version) return this.consumedCache.counts;
    const counts = new Map<string, number>();
    const total = (this.generated?.users ?? 0) + this.slots.length;
    for (let position = 0; position < total; position++) {
      const user = this.userAt(position);
      if (!user) continue;
      for (const license of user.licenses) {
        if (isHeld(license)) counts.set(license.skuId, (counts.get(license.skuId) ?? 0) + 1);
      }
    }
    this.consumedCache = { version: this.version, counts };
    return counts;
  }

  // ---- users --------------------------------------------------------------------------------------------------

  addUser(input: SimUserInput): string {
    const id = (input.id ?? randomUUID()).toLowerCase();
    if (this.findPosition(id) !== undefined) throw new Error(`User ${id} exists`);
    const user = this.buildUser(id, input, ++this.version);
    this.tombstones.delete(id);
    this.slotById.set(id, this.slots.length);
    this.slots.push(user);
    return id;
  }

  /** Changes a user (rename, new UPN or mail, aliases, enabled, licenses...). Fields not given stay. */
  updateUser(ref: string, patch: Partial<Omit<SimUserInput, 'id'>>): void {
    const { position, user } = this.userRef(ref);
    const input: SimUserInput = {
      displayName: patch.displayName ?? user.displayName,
      userPrincipalName: patch.userPrincipalName ?? user.userPrincipalName,
      mail: patch.mail !== undefined ? patch.mail : user.mail,
      accountEnabled: patch.accountEnabled ?? user.accountEnabled,
      userType: patch.userType ?? user.userType,
      givenName: patch.givenName !== undefined ? patch.givenName : user.givenName,
      surname: patch.surname !== undefined ? patch.surname : user.surname,
      jobTitle: patch.jobTitle !== undefined ? patch.jobTitle : user.jobTitle,
      licenses: patch.licenses,
    };
    // Addresses are rebuilt when mail or aliases change, unless raw proxyAddresses are given.
    if (patch.proxyAddresses) input.proxyAddresses = patch.proxyAddresses;
    else if (patch.mail !== undefined || patch.aliases) {
      input.aliases = patch.aliases ?? aliasesOf(user);
    } else input.proxyAddresses = user.proxyAddresses;
    const next = this.buildUser(user.id, input, ++this.version);
    next.licenses = patch.licenses ? next.licenses : user.licenses;
    next.createdDateTime = patch.createdDateTime ?? user.createdDateTime;
    next.signInActivity = patch.signInActivity !== undefined ? patch.signInActivity : user.signInActivity;
    this.store(position, next);
  }

  /**
   * Records sign-ins without changing the user: Graph's delta does not report signInActivity, so this is no
   * change for /users/delta either.
   */
  setSignInActivity(ref: string, activity: SimSignInActivity | null): void {
    const { position, user } = this.userRef(ref);
    this.store(position, { ...user, signInActivity: activity });
  }

  /** Whether a user with a mailbox (a mail address) answers to this id, user principal name or mail. */
  hasMailbox(ref: string): boolean {
    const r = ref.toLowerCase();
    const position = this.findPosition(r);
    const user = position === undefined ? this.slots.find((u) => u?.mail?.toLowerCase() === r) : this.userAt(position);
    return !!user?.mail;
  }

  assignLicense(ref: string, license: SimLicenseInput): void {
    const { position, user } = this.userRef(ref);
    const resolved = this.resolveLicense(license);
    const next: SimUser = {
      ...user,
      licenses: [...user.licenses.filter((l) => l.skuId !== resolved.skuId), resolved],
      changedAt: ++this.version,
    };
    this.store(position, next);
  }

  removeLicense(ref: string, sku: string): void {
    const { position, user } = this.userRef(ref);
    const skuId = this.planOf(sku).skuId;
    this.store(position, {
      ...user,
      licenses: user.licenses.filter((l) => l.skuId !== skuId),
      changedAt: ++this.version,
    });
  }

  /** Deletes a user: delta reports `@removed.reason` "changed" (soft delete, the default) or "deleted". */
  removeUser(ref: string, options: { permanent?: boolean } = {}): void {
    const { position, user } = this.userRef(ref);
    const version = ++this.version;
    if (position < (this.generated?.users ?? 0)) this.overrides.set(position, null);
    else {
      this.slots[position - (this.generated?.users ?? 0)] = undefined;
      this.slotById.delete(user.id);
    }
    this.tombstones.set(user.id, { deletedAt: version, reason: options.permanent ? 'deleted' : 'changed' });
  }

  /** The id of the n-th generated user (0-based). */
  generatedUserId(index: number): string {
    if (!this.generated || index < 0 || index >= this.generated.users) throw new Error(`No generated user ${index}`);
    return this.generatedId(index);
  }

  /** Object ids of every live user (for tests; a generated tenant lists them all). */
  userIds(): string[] {
    const ids: string[] = [];
    const total = (this.generated?.users ?? 0) + this.slots.length;
    for (let position = 0; position < total; position++) {
      const user = this.userAt(position);
      if (user) ids.push(user.id);
    }
    return ids;
  }

  userCount(): number {
    const generated = this.generated
      ? this.generated.users - [...this.overrides.values()].filter((v) => v === null).length
      : 0;
    return generated + this.slots.filter(Boolean).length;
  }

  /** The user as Graph returns it with every property. */
  graphUser(ref: string): User {
    return toGraphUser(this.userRef(ref).user);
  }

  /** Users from `position` on, at most `limit` of them. */
  /** A page of users from `position`; `licensedOnly`: only those who hold at least one plan. */
  listUsers(position: number, limit: number, licensedOnly = false): UserPage {
    const total = (this.generated?.users ?? 0) + this.slots.length;
    const users: User[] = [];
    const listed = (user: SimUser | undefined): user is SimUser =>
      user !== undefined && (!licensedOnly || user.licenses.some(isHeld));
    let p = position;
    for (; p < total && users.length < limit; p++) {
      const user = this.userAt(p);
      if (listed(user)) users.push(toGraphUser(user));
    }
    while (p < total && !listed(this.userAt(p))) p++;
    return { users, next: p < total ? p : undefined };
  }

  currentVersion(): number {
    return this.version;
  }

  currentDeltaEpoch(): number {
    return this.deltaEpoch;
  }

  /** Every delta link handed out so far stops working (Graph answers 410 syncStateNotFound). */
  expireDeltaLinks(): void {
    this.deltaEpoch++;
  }

  /** Users changed and removed in (since, until], ordered, after `afterKey`, at most `limit`. */
  deltaChanges(since: number, until: number, afterKey: string, limit: number): { items: DeltaItem[]; more: boolean } {
    const items: DeltaItem[] = [];
    const keyOf = (version: number, id: string) => `${String(version).padStart(12, '0')}:${id}`;
    for (const user of [...this.slots, ...this.overrides.values()]) {
      if (user && user.changedAt > since && user.changedAt <= until)
        items.push({ key: keyOf(user.changedAt, user.id), user: toGraphUser(user) });
    }
    for (const [id, tombstone] of this.tombstones) {
      if (tombstone.deletedAt > since && tombstone.deletedAt <= until)
        items.push({ key: keyOf(tombstone.deletedAt, id), removed: { id, reason: tombstone.reason } });
    }
    const after = items.filter((item) => item.key > afterKey).sort((a, b) => (a.key < b.key ? -1 : 1));
    return { items: after.slice(0, limit), more: after.length > limit };
  }

  // ---- faults and counters ----------------------------------------------------------------------------------

  /**
   * Scripts a failure: the next matching request (or the next `times` ones) fails this way. Rules are consumed
   * in the order they were added. Sign-in faults match the token endpoint, the others any Graph request unless
   * `when` narrows them (a resource, a page of users, a predicate).
   */
  fail(fault: SimFault, when: SimFaultWhen = {}): void {
    this.faults.push({ fault, when, remaining: when.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  pendingFaults(): number {
    return this.faults.filter((rule) => rule.remaining > 0).length;
  }

  /** The first fault rule matching this request, consumed once. */
  takeFault(request: SimRequestInfo): SimFault | undefined {
    for (const rule of this.faults) {
      if (rule.remaining <= 0 || !faultMatches(rule, request)) continue;
      rule.remaining--;
      return rule.fault;
    }
    return undefined;
  }

  /** Requests this tenant received, optionally only those whose path equals (or matches) `path`. */
  requestCount(path?: string | RegExp): number {
    return this.countRequests(this.tenantId, path);
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  private generatedId(index: number): string {
    return `${this.generated!.idPrefix}-${index.toString(16).padStart(12, '0')}`;
  }

  private findPosition(ref: string): number | undefined {
    const r = ref.toLowerCase();
    const slot = this.slotById.get(r);
    const generatedCount = this.generated?.users ?? 0;
    if (slot !== undefined) return generatedCount + slot;
    if (this.generated && r.startsWith(this.generated.idPrefix + '-')) {
      const index = parseInt(r.slice(this.generated.idPrefix.length + 1), 16);
      if (index < generatedCount && this.overrides.get(index) !== null) return index;
      return undefined;
    }
    const bySlot = this.slots.findIndex((user) => user?.userPrincipalName.toLowerCase() === r);
    return bySlot >= 0 ? generatedCount + bySlot : undefined;
  }

  private userRef(ref: string): { position: number; user: SimUser } {
    const position = this.findPosition(ref);
    const user = position === undefined ? undefined : this.userAt(position);
    if (position === undefined || !user) throw new Error(`No user ${ref} in tenant ${this.displayName}`);
    return { position, user };
  }

  private userAt(position: number): SimUser | undefined {
    const generatedCount = this.generated?.users ?? 0;
    if (position >= generatedCount) return this.slots[position - generatedCount];
    const override = this.overrides.get(position);
    if (override !== undefined) return override ?? undefined;
    return this.generateUser(position);
  }

  private store(position: number, user: SimUser): void {
    const generatedCount = this.generated?.users ?? 0;
    if (position < generatedCount) this.overrides.set(position, user);
    else this.slots[position - generatedCount] = user;
  }

  private resolveLicense(input: SimLicenseInput): SimLicense {
    const skuId = this.planOf(input.sku).skuId;
    const groups = (input.groups ?? []).map((group) => {
      const g = typeof group === 'string' ? { groupId: group } : group;
      const error = g.error ?? 'None';
      return { groupId: g.groupId.toLowerCase(), error, state: g.state ?? (error === 'None' ? 'Active' : 'Error') };
    });
    const direct = input.direct ?? groups.length === 0;
    const error = input.error ?? 'None';
    return {
      skuId,
      direct: direct ? { error, state: input.state ?? (error === 'None' ? 'Active' : 'Error') } : undefined,
      groups,
      disabledPlans: input.disabledPlans ?? [],
    };
  }

  private buildUser(id: string, input: SimUserInput, version: number): SimUser {
    const userType = input.userType ?? 'Member';
    const mail = input.mail === undefined ? (userType === 'Guest' ? null : input.userPrincipalName) : input.mail;
    const proxyAddresses =
      input.proxyAddresses ?? (mail ? [`SMTP:${mail}`, ...(input.aliases ?? []).map((alias) => `smtp:${alias}`)] : []);
    const [first, ...rest] = input.displayName.split(' ');
    return {
      id,
      displayName: input.displayName,
      userPrincipalName: input.userPrincipalName,
      mail,
      proxyAddresses,
      accountEnabled: input.accountEnabled ?? true,
      userType,
      givenName: input.givenName !== undefined ? input.givenName : (first ?? null),
      surname: input.surname !== undefined ? input.surname : rest.join(' ') || null,
      jobTitle: input.jobTitle ?? null,
      licenses: (input.licenses ?? []).map((license) => this.resolveLicense(license)),
      signInActivity: input.signInActivity,
      createdDateTime: input.createdDateTime ?? isoAt(version),
      changedAt: version,
    };
  }

  /** The n-th user of a generated tenant, made from the seed alone. */
  private generateUser(index: number): SimUser {
    const g = this.generated!;
    const random = prng(Math.imul(g.seed, 2654435761) ^ (index * 40503 + 1));
    const n = index + 1;
    const domain = this.domains[0]!;
    const guest = n % 97 === 0;
    const upn = guest ? `guest${n}_example.com#EXT#@${domain}` : `user${n}@${domain}`;
    const mail = guest ? `guest${n}@example.com` : `user${n}@${domain}`;
    const proxyAddresses = [`SMTP:${mail}`];
    if (n % 3 === 0 && !guest) proxyAddresses.push(`smtp:u${n}@${domain}`);
    if (n % 10 === 0)
      proxyAddresses.push(`x500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=user${n}`);
    const planCount = g.skuIds.length === 0 ? 0 : Math.min(g.skuIds.length, random() < 0.5 ? 1 : 2);
    const first = Math.floor(random() * g.skuIds.length);
    const licenses: SimLicense[] = [];
    for (let k = 0; k < planCount; k++) {
      const skuId = g.skuIds[(first + k) % g.skuIds.length]!;
      const viaGroup = n % 7 === 0 && k === 0;
      licenses.push({
        skuId,
        direct: viaGroup ? undefined : { state: 'Active', error: 'None' },
        groups: viaGroup ? [{ groupId: guidFrom('group', this.tenantId, n % 5), state: 'Active', error: 'None' }] : [],
        disabledPlans: [],
      });
    }
    return {
      id: this.generatedId(index),
      displayName: guest ? `Guest ${n}` : `Simulated User ${n}`,
      userPrincipalName: upn,
      mail,
      proxyAddresses,
      accountEnabled: n % 53 !== 0,
      userType: guest ? 'Guest' : 'Member',
      givenName: guest ? 'Guest' : 'Simulated',
      surname: guest ? String(n) : `User ${n}`,
      jobTitle: null,
      licenses,
      // Every 11th user never signed in, every 4th last signed in 120 days ago: inactive at the default 90 days.
      signInActivity: n % 11 === 0 ? null : n % 4 === 0 ? recentActivity(120) : recentActivity(1),
      createdDateTime: isoAt(0),
      changedAt: 0,
    };
  }
}

function aliasesOf(user: SimUser): string[] {
  return user.proxyAddresses.filter((address) => address.startsWith('smtp:')).map((address) => address.slice(5));
}

/** Held = some assignment (direct or via a group) did not fail; a failed one only shows in the states. */
function isHeld(license: SimLicense): boolean {
  return (
    (license.direct !== undefined && license.direct.state !== 'Error') ||
    license.groups.some((group) => group.state !== 'Error')
  );
}

/** Sign-ins `days` days before today (UTC midnight, so a generated tenant answers the same all day). */
function recentActivity(days: number): SimSignInActivity {
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const at = new Date(today - days * 86_400_000).toISOString().replace('.000Z', 'Z');
  return { lastSignInDateTime: at, lastNonInteractiveSignInDateTime: at, lastSuccessfulSignInDateTime: at };
}

/** Graph's signInActivity object: the request ids are set where a sign-in is, empty where none is. */
function graphSignInActivity(activity: SimSignInActivity | null | undefined): Record<string, string> | null {
  if (activity === null) return null;
  const value = activity ?? recentActivity(0);
  const field = (at: string | undefined) => at ?? NEVER_SIGNED_IN;
  const requestId = (at: string | undefined) => (at && at !== NEVER_SIGNED_IN ? guidFrom('signin', at) : '');
  return {
    lastSignInDateTime: field(value.lastSignInDateTime),
    lastSignInRequestId: requestId(value.lastSignInDateTime),
    lastNonInteractiveSignInDateTime: field(value.lastNonInteractiveSignInDateTime),
    lastNonInteractiveSignInRequestId: requestId(value.lastNonInteractiveSignInDateTime),
    lastSuccessfulSignInDateTime: field(value.lastSuccessfulSignInDateTime),
    lastSuccessfulSignInRequestId: requestId(value.lastSuccessfulSignInDateTime),
  };
}

function toGraphUser(user: SimUser): User {
  const assignedLicenses: AssignedLicense[] = [];
  const licenseAssignmentStates: LicenseAssignmentState[] = [];
  const updated = isoAt(user.changedAt);
  for (const license of user.licenses) {
    if (isHeld(license)) assignedLicenses.push({ skuId: license.skuId, disabledPlans: license.disabledPlans });
    if (license.direct) {
      licenseAssignmentStates.push({
        skuId: license.skuId,
        assignedByGroup: null,
        state: license.direct.state,
        error: license.direct.error,
        disabledPlans: license.disabledPlans,
        lastUpdatedDateTime: updated,
      });
    }
    for (const group of license.groups) {
      licenseAssignmentStates.push({
        skuId: license.skuId,
        assignedByGroup: group.groupId,
        state: group.state,
        error: group.error,
        disabledPlans: license.disabledPlans,
        lastUpdatedDateTime: updated,
      });
    }
  }
  return {
    id: user.id,
    businessPhones: [],
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: user.jobTitle,
    mail: user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: user.surname,
    userPrincipalName: user.userPrincipalName,
    accountEnabled: user.accountEnabled,
    userType: user.userType,
    createdDateTime: user.createdDateTime,
    proxyAddresses: user.proxyAddresses,
    assignedLicenses,
    licenseAssignmentStates,
    signInActivity: graphSignInActivity(user.signInActivity),
  };
}

function faultMatches(rule: SimFaultRule, request: SimRequestInfo): boolean {
  const { fault, when } = rule;
  const resource = when.resource ?? (fault.kind === 'signIn' ? 'token' : 'graph');
  if (resource === 'graph') {
    if (request.resource === 'token' || request.resource === 'openid' || request.resource === 'userrealm') return false;
  } else if (resource !== request.resource) return false;
  if (when.page !== undefined && request.page !== when.page) return false;
  if (when.match && !when.match(request)) return false;
  return true;
}
