import { z } from 'zod';

/**
 * The shapes the ledger keeps for the insights (PRODUCT.md, "Beyond the mirror"): a license's subscriptions, a
 * notice a run leaves when Graph refuses an optional read, the daily snapshots and the admin's prices. The rules
 * that compute them live in src/insights; these are here so the ports can name them.
 */

export const licenseSubscriptionSchema = z.object({
  id: z.string(),
  commerceSubscriptionId: z.string().optional(),
  /** Graph's status; unknown future values are kept as Graph sends them. */
  status: z.string(),
  totalLicenses: z.number().int().nonnegative(),
  isTrial: z.boolean(),
  createdAt: z.string().optional(),
  nextLifecycleAt: z.string().optional(),
});
export type LicenseSubscription = z.infer<typeof licenseSubscriptionSchema>;

/** What a license shows of its subscriptions. */
export interface LicenseSubscriptions {
  subscriptions: LicenseSubscription[];
  /** The earliest nextLifecycleDateTime of the subscriptions that are not Deleted. */
  nextLifecycleAt?: string;
  /** Any subscription that is not Deleted is a trial. */
  trial: boolean;
}

/** Why an optional read of a run (sign-in activity, subscriptions) did not happen, and what to do about it. */
export const noticeSchema = z.object({
  code: z.string(),
  message: z.string(),
  at: z.string().datetime({ offset: true }),
});
export type Notice = z.infer<typeof noticeSchema>;

const dateSchema = z.iso.date();

export const licenseSnapshotSchema = z.object({
  date: dateSchema,
  available: z.number().int(),
  consumedUnits: z.number().int(),
  assigned: z.number().int(),
  warning: z.number().int(),
  suspended: z.number().int(),
});
export type LicenseSnapshot = z.infer<typeof licenseSnapshotSchema>;

export const portalSnapshotSchema = z.object({
  date: dateSchema,
  /** Distinct users holding at least one plan (guests and disabled accounts included). */
  licensedUsers: z.number().int().nonnegative(),
});
export type PortalSnapshot = z.infer<typeof portalSnapshotSchema>;

export const PRICE_PERIODS = ['month', 'year'] as const;

/** A price as stored: the amount is an exact decimal string (see src/insights/money.ts). */
export const storedPriceSchema = z.object({
  amount: z.string().regex(/^\d+(\.\d{1,6})?$/),
  currency: z.string().regex(/^[A-Z]{3}$/),
  period: z.enum(PRICE_PERIODS),
});
export type StoredPrice = z.infer<typeof storedPriceSchema>;

/** One sync-owned consumer as far as the insights are concerned. */
export interface HolderFacts {
  skuId: string;
  contactId: string;
  objectId: string;
  accountEnabled: boolean;
  userType: string;
  lastSignInAt?: string;
  inactive?: boolean;
}

/** One user's sign-in facts from the activity pass. */
export interface UserActivity {
  objectId: string;
  /** Graph's signInActivity as sent (null: none recorded). */
  signInActivity?: {
    lastSignInDateTime?: string | null;
    lastNonInteractiveSignInDateTime?: string | null;
    lastSuccessfulSignInDateTime?: string | null;
  } | null;
  createdAt?: string;
}

/** The fields of Graph's companySubscription that the ledger keeps. */
export interface CompanySubscriptionFacts {
  id?: string | null;
  commerceSubscriptionId?: string | null;
  skuId?: string | null;
  status?: string | null;
  totalLicenses?: number | null;
  isTrial?: boolean | null;
  createdDateTime?: string | null;
  nextLifecycleDateTime?: string | null;
}

/** A subscription's term, as the admin sets it (else inferred from its dates; see src/insights/renewals.ts). */
export const TERMS = ['month', 'year', 'threeYears'] as const;
export type Term = (typeof TERMS)[number];
export const termSchema = z.enum(TERMS);

/** The buffer right-size keeps above the active holders: the larger of a percentage of them and a minimum. */
export const renewalSettingsSchema = z.strictObject({
  bufferPercent: z.number().min(0).max(100),
  bufferMin: z.number().int().min(0).max(100_000),
});
export type RenewalSettings = z.infer<typeof renewalSettingsSchema>;
