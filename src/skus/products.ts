import { parse } from 'csv-parse/sync';

/**
 * Microsoft's product-names list is a CSV with one row per service plan, so many rows per product. Only three
 * columns matter here: the product's GUID (its skuId), its String_Id (the skuPartNumber) and its display name.
 */

/** One product: [skuId (lower-case GUID), part number (String_Id), display name]. */
export type Product = [string, string, string];

const COLUMNS = { name: 'Product_Display_Name', stringId: 'String_Id', guid: 'GUID' } as const;

/** Parses Microsoft's CSV (BOM, quoted commas) into one entry per product, in the list's order. */
export function parseProductNames(csv: string): Product[] {
  const rows = parse<Record<string, string | undefined>>(csv, {
    bom: true,
    columns: true,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
  });
  const first = rows[0];
  if (!first || !(COLUMNS.name in first) || !(COLUMNS.guid in first) || !(COLUMNS.stringId in first)) {
    throw new Error(`the list lacks the columns ${Object.values(COLUMNS).join(', ')}`);
  }
  const seen = new Set<string>();
  const products: Product[] = [];
  for (const row of rows) {
    const guid = (row[COLUMNS.guid] ?? '').toLowerCase();
    const name = row[COLUMNS.name] ?? '';
    if (!guid || !name || seen.has(guid)) continue;
    seen.add(guid);
    products.push([guid, row[COLUMNS.stringId] ?? '', name]);
  }
  if (products.length === 0) throw new Error('the list holds no products');
  return products;
}
