import Decimal from 'decimal.js';
import { z } from 'zod';
import { PRICE_PERIODS } from '../domain/insights';

/**
 * Prices of plans, kept exact (decimal strings, computed with decimal.js) and rounded to cents only when shown.
 * Prices are the admin's own figures: never sent to Microsoft, never converted between currencies.
 */

export { PRICE_PERIODS };
export type PricePeriod = (typeof PRICE_PERIODS)[number];

const MAX_AMOUNT = new Decimal('1000000000');

/** A non-negative amount with at most 6 decimals, from a JSON number or a numeric string; kept as its exact text. */
export const amountSchema = z.union([z.number(), z.string().trim()]).transform((value, ctx) => {
  let decimal: Decimal;
  try {
    decimal = new Decimal(typeof value === 'number' ? String(value) : value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a number' });
    return z.NEVER;
  }
  if (!decimal.isFinite() || decimal.isNegative() || decimal.greaterThan(MAX_AMOUNT)) {
    ctx.addIssue({ code: 'custom', message: 'must be a number from 0 to 1,000,000,000' });
    return z.NEVER;
  }
  if (decimal.decimalPlaces() > 6) {
    ctx.addIssue({ code: 'custom', message: 'must have at most 6 decimal places' });
    return z.NEVER;
  }
  return decimal.toFixed();
});

export const currencySchema = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code such as EUR or USD')
  .transform((code) => code.toUpperCase());

export const priceInputSchema = z.strictObject({
  amount: amountSchema,
  currency: currencySchema,
  period: z.enum(PRICE_PERIODS),
});
/** A price as stored: amount is an exact decimal string. */
export type Price = z.output<typeof priceInputSchema>;

/** The price per seat and month: a yearly price counts as a twelfth per month. */
export function monthlyUnitPrice(price: Price): Decimal {
  const amount = new Decimal(price.amount);
  return price.period === 'year' ? amount.dividedBy(12) : amount;
}

/** An amount as shown: rounded half up to cents. */
export function cents(value: Decimal): number {
  return value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toNumber();
}

/** Sums per currency, never converting between them. */
export class CurrencyTotals<K extends string> {
  private readonly sums = new Map<string, Record<K, Decimal>>();

  constructor(private readonly keys: readonly K[]) {}

  add(currency: string, values: Partial<Record<K, Decimal>>): void {
    let sum = this.sums.get(currency);
    if (!sum) {
      sum = Object.fromEntries(this.keys.map((key) => [key, new Decimal(0)])) as Record<K, Decimal>;
      this.sums.set(currency, sum);
    }
    for (const key of this.keys) {
      const value = values[key];
      if (value) sum[key] = sum[key].plus(value);
    }
  }

  /** `{ "<currency>": { key: amount in cents } }`, currencies in alphabetical order. */
  shown(): Record<string, Record<K, number>> {
    const out: Record<string, Record<K, number>> = {};
    for (const currency of [...this.sums.keys()].sort()) {
      const sum = this.sums.get(currency)!;
      out[currency] = Object.fromEntries(this.keys.map((key) => [key, cents(sum[key])])) as Record<K, number>;
    }
    return out;
  }
}
