import { z } from 'zod';
import { MAX_PAGE_SIZE, decodeCursor } from '../domain/paging';
import { renewalSettingsSchema, TERMS } from '../insights/renewals';
import { idSchema, listQuery } from './schemas';

/** The shapes of the right-size routes (PRODUCT.md, "Right-size before renewal"). */

const count = z.number().int().nonnegative();
const money = z.number().meta({ description: 'Rounded to cents.' });

export const renewalItemSchema = z
  .object({
    portalId: z.string(),
    licenseId: z.string(),
    subscriptionId: z.string(),
    nextLifecycleAt: z.string().meta({ description: 'When the subscription renews: the deadline to cut seats.' }),
    term: z.enum(TERMS),
    termInferred: z
      .literal(true)
      .optional()
      .meta({ description: "Set when no admin set the term: inferred from the subscription's dates." }),
    totalLicenses: count,
    holders: count.meta({ description: "The plan's holders (sync-owned consumers of the license)." }),
    activeHolders: count.meta({ description: 'Holders neither disabled nor inactive.' }),
    recommendedSeats: count.meta({
      description:
        "This subscription's share of activeHolders + buffer, split across the plan's subscriptions soonest-renewing last.",
    }),
    seatsToCut: count.meta({ description: 'max(0, totalLicenses - recommendedSeats).' }),
    monthlyUnitPrice: money.optional(),
    currency: z.string().optional(),
    savingsPerTerm: money.optional().meta({ description: 'seatsToCut x monthly unit price x months in the term.' }),
  })
  .meta({ id: 'RenewalItem' });

const DEFAULT_LIMIT = 100;
const range = `must be a whole number from 1 to ${MAX_PAGE_SIZE}`;

export const renewalListQuery = listQuery({
  portalId: idSchema.optional(),
  withinDays: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of days from 0 to 3650')
    .refine((value) => Number(value) <= 3650, 'must be a whole number of days from 0 to 3650')
    .optional()
    .meta({ description: 'Renewals from now to this many days ahead (default 90).' }),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, range)
    .refine((value) => Number(value) >= 1 && Number(value) <= MAX_PAGE_SIZE, range)
    .optional()
    .meta({ description: `At most this many items (1-${MAX_PAGE_SIZE}, default ${DEFAULT_LIMIT}).` }),
  continuationToken: z
    .string()
    .refine((value) => decodeCursor(value) !== undefined, 'is not a continuation token of this list')
    .optional()
    .meta({ description: 'The `continuationToken` of the previous page: the next page.' }),
});
export const RENEWAL_PAGE_SIZE = DEFAULT_LIMIT;

export const renewalListSchema = z
  .object({
    items: z.array(renewalItemSchema),
    continuationToken: z
      .string()
      .optional()
      .meta({ description: 'Where the next page starts: pass it as `?continuationToken=`. Absent on the last page.' }),
  })
  .meta({ id: 'RenewalList', description: 'Subscriptions renewing within the window, soonest first.' });

export const subscriptionParams = z.strictObject({
  id: z
    .string()
    .regex(
      /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
      "must be a subscription's id (GUID)",
    )
    .transform((value) => value.toLowerCase()),
});

export const termBodySchema = z.strictObject({ term: z.enum(TERMS) }).meta({ id: 'TermInput' });
export const termSchema = z
  .object({ subscriptionId: z.string(), licenseId: z.string(), term: z.enum(TERMS) })
  .meta({ id: 'SubscriptionTerm' });

export const renewalSettingsBodySchema = renewalSettingsSchema.meta({
  id: 'RenewalSettings',
  description:
    'The buffer kept above the active holders: the larger of bufferPercent of them (rounded up) and bufferMin seats.',
});
