import type { CompanySubscriptionFacts, LicenseSubscriptions, UserActivity } from './insights';

/**
 * What the sync reads from a tenant, in the compact form the reconciliation needs. The Graph adapter turns
 * Microsoft Graph's subscribedSku and user resources into these with small pure functions.
 */

/** One plan (SKU) the tenant has bought: GET /subscribedSkus. */
export interface TenantPlan {
  skuId: string;
  skuPartNumber: string;
  /** Enabled, Warning, Suspended, Deleted, LockedOut */
  capabilityStatus: string;
  /** User or Company */
  appliesTo: string;
  consumedUnits: number;
  prepaidUnits: { enabled: number; warning: number; suspended: number; lockedOut: number };
  /** Its subscriptions from /directory/subscriptions; absent when they could not be read this run. */
  subscriptions?: LicenseSubscriptions;
}

/** One plan one user holds: assignedLicenses joined with licenseAssignmentStates. */
export interface TenantUserPlan {
  skuId: string;
  assignedDirectly: boolean;
  assignedViaGroups: string[];
  /** licenseAssignmentState.state of the direct assignment if any, else of the first group one. */
  state: string;
  /** licenseAssignmentState.error (None when fine). */
  error: string;
}

export interface TenantUser {
  objectId: string;
  displayName: string;
  userPrincipalName: string;
  /** mail, then userPrincipalName, then the smtp: entries of proxyAddresses; lower-cased, without duplicates. */
  addresses: string[];
  /** The address a new contact gets as its primary one: mail, else userPrincipalName (original case). */
  primaryEmail: string;
  accountEnabled: boolean;
  /** Member or Guest */
  userType: string;
  plans: TenantUserPlan[];
}

/** A page of Graph's /users/delta: changed users, and ids of users deleted since the last delta link. */
export interface UserDeltaPage {
  users: TenantUser[];
  removedObjectIds: string[];
}

export interface GraphCallStats {
  graphRequests: number;
  throttledRetries: number;
}

/** Reads one tenant. One instance per portal and run; it counts its own requests. */
export interface TenantReader {
  readPlans(): Promise<TenantPlan[]>;
  /** Every user, a page at a time (following @odata.nextLink to the end). */
  readUsers(): AsyncIterable<TenantUser[]>;
  /**
   * Changes since `deltaLink` (or, without one, a full delta round that yields every user). Ends with the new
   * delta link. Throws AppError('delta_expired')-like `DeltaExpiredError` when Graph says the link is gone.
   */
  readUserDelta(deltaLink: string | undefined): AsyncGenerator<UserDeltaPage, string, undefined>;
  /**
   * A delta link that starts from now (`/users/delta?$deltatoken=latest`: one request, no users), asked for
   * before a full read so the next run can read just the changes. Optional: a reader without it never yields one.
   */
  latestDeltaLink?(): Promise<string>;
  /**
   * Graph's `POST /users/{from}/sendMail` (the app needs Mail.Send): the e-mail channel's way out. Optional:
   * readers that only read (test fakes) lack it.
   */
  sendMail?(from: string, mail: { message: Record<string, unknown>; saveToSentItems: boolean }): Promise<void>;
  /** GET /directory/subscriptions: every subscription of every plan (one request). */
  readSubscriptions(): Promise<CompanySubscriptionFacts[]>;
  /**
   * Licensed users' sign-in activity, a page (at most 120 users) at a time. Throws AppError
   * activity_permission_missing or activity_premium_missing when Graph refuses it.
   */
  readSignInActivity(): AsyncIterable<UserActivity[]>;
  stats(): GraphCallStats;
}

export class DeltaExpiredError extends Error {
  constructor(message = 'The delta link has expired; a full read is needed.') {
    super(message);
    this.name = 'DeltaExpiredError';
  }
}
