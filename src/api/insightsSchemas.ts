import { z } from 'zod';
import { licenseSnapshotSchema } from '../domain/insights';
import { PRICE_PERIODS, priceInputSchema } from '../insights/money';
import { idSchema, licenseIdSchema, listQuery } from './schemas';

/** The shapes of the insights routes (PRODUCT.md, "History and the billing figure", "Activity, prices and waste"). */

const dayQuery = z.iso.date('must be a date YYYY-MM-DD');

export const historyQuery = listQuery({
  from: dayQuery.optional().meta({ description: 'First day (inclusive); default: 12 months before today.' }),
  to: dayQuery.optional().meta({ description: 'Last day (inclusive); default: today.' }),
});
export const licenseSnapshotItemSchema = licenseSnapshotSchema.meta({ id: 'LicenseSnapshot' });
export const historySchema = z
  .object({ items: z.array(licenseSnapshotItemSchema) })
  .meta({ id: 'LicenseHistory', description: "A license's daily snapshots, oldest first." });

export const licensedUsersQuery = listQuery({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM')
    .meta({ description: 'The month, YYYY-MM.' }),
  portalId: idSchema.optional(),
});
export const licensedUsersMonthSchema = z
  .object({
    portalId: z.string(),
    portalName: z.string(),
    month: z.string(),
    peakLicensedUsers: z.number().int().nonnegative(),
    lastLicensedUsers: z.number().int().nonnegative(),
  })
  .meta({ id: 'LicensedUsersMonth' });
export const licensedUsersReportSchema = z.object({ items: z.array(licensedUsersMonthSchema) }).meta({
  id: 'LicensedUsersReport',
  description:
    'Distinct users holding at least one plan, per portal: the highest daily count of the month and the latest. A month without data has no item.',
});

export const skuParams = z.strictObject({
  skuId: z
    .string()
    .regex(
      /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
      'must be a plan skuId (GUID)',
    )
    .transform((value) => value.toLowerCase()),
});
export const priceLicenseParams = z.strictObject({ id: licenseIdSchema });

export const priceBodySchema = priceInputSchema.meta({
  id: 'PriceInput',
  description:
    'A price per seat: amount as a number or a decimal string (up to 6 decimals), ISO 4217 currency, per month or per year (a twelfth counts per month).',
});

const shownPrice = {
  amount: z.string().meta({ description: 'Exact decimal, as entered.' }),
  currency: z.string(),
  period: z.enum(PRICE_PERIODS),
};
export const planPriceSchema = z.object({ skuId: z.string(), ...shownPrice }).meta({ id: 'PlanPrice' });
export const planPriceListSchema = z.object({ items: z.array(planPriceSchema) }).meta({ id: 'PlanPriceList' });
export const priceListQuery = listQuery({});
export const licensePriceSchema = z.object({ licenseId: z.string(), ...shownPrice }).meta({ id: 'LicensePrice' });

export const wasteQuery = z.strictObject({ portalId: idSchema.optional() });
const money = z.number().meta({ description: 'Rounded to cents.' });
export const wasteReportSchema = z
  .object({
    items: z.array(
      z
        .object({
          licenseId: z.string(),
          licenseName: z.string(),
          portalId: z.string(),
          unassigned: z.number().int().nonnegative(),
          disabledHolders: z.number().int().nonnegative(),
          inactiveHolders: z.number().int().nonnegative(),
          guestHolders: z.number().int().nonnegative(),
          monthlyUnitPrice: money.optional(),
          currency: z.string().optional(),
          monthlyCost: money.optional(),
          reclaimableMonthly: money.optional().meta({
            description:
              '(unassigned + disabled + inactive holders) x monthly unit price; disabled and inactive count once.',
          }),
        })
        .meta({ id: 'WasteItem' }),
    ),
    totals: z
      .record(z.string(), z.object({ monthlyCost: money, reclaimableMonthly: money }))
      .meta({ description: 'Per currency (never converted).' }),
  })
  .meta({
    id: 'WasteReport',
    description: 'Licenses by reclaimable money per month (priced first), else by reclaimable seats.',
  });
