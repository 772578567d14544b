import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';

/**
 * A list as a CSV file (PRODUCT.md, "Exports"): RFC 4180 (CRLF, quotes doubled, a field holding a comma, quote,
 * CR or LF quoted), UTF-8 with a BOM so spreadsheets read the accents. Columns come from the item's zod schema,
 * not from the rows, so every file of a list has the same header whatever its first row holds:
 * - a nested object becomes dotted columns (`contact.displayName`, `lastRun.counts.usersRead`); the options of
 *   a union contribute their fields in order (`owner.kind`, `owner.portalId`);
 * - an array of texts or numbers is one cell, its values joined by "; " (`aliases`); an array of objects, or a
 *   record, is one cell of JSON (a run's `conflicts`);
 * - absent and null are empty cells, booleans `true`/`false`, numbers as JSON writes them.
 * A text cell that begins with =, +, -, @, a tab or a carriage return gets a leading `'`, so no spreadsheet
 * runs it as a formula; numbers are never prefixed (-5 stays -5).
 */

export interface CsvColumn {
  /** The header: the field's dotted path. */
  name: string;
  path: readonly string[];
  /** `json`: the schema says the value is an array of objects or a record; written as JSON. */
  kind: 'value' | 'list' | 'json';
}

export const ARRAY_SEPARATOR = '; ';
const FORMULA_START = /^[=+\-@\t\r]/;

/** The schema a value is checked against once optional, nullable, default and friends are looked through. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodCatch
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.out as z.ZodType;
    } else if (current instanceof z.ZodLazy) {
      current = current.unwrap() as z.ZodType;
    } else {
      return current;
    }
  }
}

/** The fields of an object, or of every object option of a union, in order of first appearance. */
function fieldsOf(schema: z.ZodType): [string, z.ZodType][] | undefined {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) return Object.entries(inner.shape);
  if (inner instanceof z.ZodUnion) {
    const options = (inner.options as z.ZodType[]).map(fieldsOf);
    if (options.some((fields) => fields === undefined)) return undefined;
    const merged = new Map<string, z.ZodType[]>();
    for (const [key, field] of options.flatMap((fields) => fields ?? []))
      merged.set(key, [...(merged.get(key) ?? []), field]);
    return [...merged].map(([key, fields]) => [key, fields.length === 1 ? fields[0]! : z.union(fields)]);
  }
  return undefined;
}

function isObjectLike(schema: z.ZodType): boolean {
  const inner = unwrap(schema);
  return fieldsOf(inner) !== undefined || inner instanceof z.ZodRecord || inner instanceof z.ZodArray;
}

/** The columns of a list whose items have this schema. */
export function csvColumns(item: z.ZodType, prefix: readonly string[] = []): CsvColumn[] {
  const fields = fieldsOf(item);
  if (!fields) throw new Error('A CSV list needs items that are objects.');
  return fields.flatMap(([key, field]): CsvColumn[] => {
    const path = [...prefix, key];
    const inner = unwrap(field);
    if (fieldsOf(inner)) return csvColumns(inner, path);
    const kind =
      inner instanceof z.ZodRecord || (inner instanceof z.ZodArray && isObjectLike(inner.element as z.ZodType))
        ? 'json'
        : inner instanceof z.ZodArray
          ? 'list'
          : 'value';
    return [{ name: path.join('.'), path, kind }];
  });
}

/** A text as a spreadsheet may safely open it. */
export function neutralise(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function scalar(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function csvCell(value: unknown, column: CsvColumn): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return neutralise(value);
  if (column.kind === 'list' && Array.isArray(value)) return neutralise(value.map(scalar).join(ARRAY_SEPARATOR));
  return neutralise(JSON.stringify(value));
}

export function csvRow(item: unknown, columns: readonly CsvColumn[]): string[] {
  return columns.map((column) => {
    let value: unknown = item;
    for (const key of column.path) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    return csvCell(value, column);
  });
}

/** One piece of the file: the BOM and header first, then the rows of one page at a time. */
export function csvText(rows: readonly string[][], columns: readonly CsvColumn[], first: boolean): string {
  return stringify(rows as string[][], {
    bom: first,
    header: first,
    columns: columns.map((column) => column.name),
    record_delimiter: 'windows',
    // RFC 4180 quotes line breaks too; csv-stringify quotes only its own record delimiter by itself.
    quoted_match: /[\r\n]/,
  });
}
