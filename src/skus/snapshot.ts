import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseProductNames } from './products';

/**
 * A compact copy of Microsoft's product-names list shipped with the app, so licenses get their display names
 * without internet access (the demo, a function app whose outbound traffic only reaches Graph). It is derived
 * by `npm run refresh-sku-names`, never edited by hand; Microsoft's CSV itself is not part of the repository.
 */

/** Where the build puts the snapshot: beside this module (tsconfig includes src's JSON files). */
export const SHIPPED_SNAPSHOT = path.join(__dirname, 'product-names.json');

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const snapshotSchema = z.object({
  about: z.string(),
  /** The SHA-256 of the CSV it was derived from: tells which edition of Microsoft's list it is. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  products: z.array(z.tuple([z.string().regex(GUID), z.string(), z.string().min(1)])).min(1),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

const ABOUT =
  "Derived from Microsoft's product-names list (skuId, String_Id, Product_Display_Name) by " +
  '`npm run refresh-sku-names`; do not edit by hand.';

function byPartNumberThenId(a: Snapshot['products'][number], b: Snapshot['products'][number]): number {
  // Code-unit order, not locale order: the same list gives the same file on every machine.
  const [left, right] = [`${a[1].toUpperCase()}\n${a[0]}`, `${b[1].toUpperCase()}\n${b[0]}`];
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The snapshot of Microsoft's CSV: one entry per product, sorted by part number. */
export function snapshotOf(csv: string): Snapshot {
  return snapshotSchema.parse({
    about: ABOUT,
    sha256: createHash('sha256').update(csv, 'utf8').digest('hex'),
    products: parseProductNames(csv).sort(byPartNumberThenId),
  });
}

/** The snapshot as its file holds it: JSON with one product a line, so a refresh reads well as a diff. */
export function formatSnapshot(snapshot: Snapshot): string {
  const products = snapshot.products.map((product) => `    ${JSON.stringify(product)}`).join(',\n');
  return (
    `{\n  "about": ${JSON.stringify(snapshot.about)},\n  "sha256": ${JSON.stringify(snapshot.sha256)},\n` +
    `  "products": [\n${products}\n  ]\n}\n`
  );
}

/** Reads and validates a snapshot file; throws with a one-line reason when it is missing or malformed. */
export function readSnapshot(file: string): Snapshot {
  const parsed = snapshotSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`not a product-names snapshot (${issue?.path.join('.') || 'top level'}: ${issue?.message})`);
  }
  return parsed.data;
}
