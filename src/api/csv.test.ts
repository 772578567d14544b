import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { csvColumns, csvRow, csvText, neutralise } from './csv';
import { consumerListItemSchema, portalSchema, runSchema } from './schemas';

const item = z.object({
  id: z.string(),
  count: z.number().int(),
  active: z.boolean(),
  note: z.string().optional(),
  contact: z.object({ email: z.string(), displayName: z.string() }).nullable(),
  owner: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('manual') }),
    z.object({ kind: z.literal('sync'), portalId: z.string() }),
  ]),
  aliases: z.array(z.string()),
  conflicts: z.array(z.object({ objectId: z.string() })),
});

/** The file read back as rows of cells (the header first). */
function table(text: string, options: { bom: true; record_delimiter?: string }): string[][] {
  const rows: unknown = parse(text, options);
  return rows as string[][];
}

function file(items: unknown[], schema: z.ZodType = item): string {
  const columns = csvColumns(schema);
  return csvText(
    items.map((one) => csvRow(one, columns)),
    columns,
    true,
  );
}

describe('CSV of a list', () => {
  it('takes its columns from the schema: nested objects and union options as dotted columns, in order', () => {
    expect(csvColumns(item).map((c) => c.name)).toEqual([
      'id',
      'count',
      'active',
      'note',
      'contact.email',
      'contact.displayName',
      'owner.kind',
      'owner.portalId',
      'aliases',
      'conflicts',
    ]);
    expect(csvColumns(consumerListItemSchema).map((c) => c.name)).toEqual(
      expect.arrayContaining(['contact.displayName', 'assignment.userPrincipalName', 'owner.portalId', 'lastSeen']),
    );
    expect(csvColumns(portalSchema).map((c) => c.name)).toEqual(
      expect.arrayContaining(['lastRun.status', 'lastRun.counts.usersRead']),
    );
    expect(csvColumns(portalSchema).map((c) => c.name)).not.toContain('deltaLink');
  });

  it('starts with a UTF-8 BOM and a header row, lines end in CRLF, and an empty list is the header alone', () => {
    const text = file([]);
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text).toBe(
      '\ufeffid,count,active,note,contact.email,contact.displayName,owner.kind,owner.portalId,aliases,conflicts\r\n',
    );
    expect(Buffer.from(text, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('quotes commas, quotes, line feeds and carriage returns as RFC 4180 says, and reads back the same', () => {
    const tricky = 'Smith, "Bob"\nsecond line\rthird';
    const text = file([
      {
        id: 'a',
        count: 1,
        active: true,
        contact: { email: 'b@x.com', displayName: tricky },
        owner: { kind: 'manual' },
        aliases: [],
        conflicts: [],
      },
    ]);
    expect(text).toContain('"Smith, ""Bob""\nsecond line\rthird"');
    const [header, row] = table(text, { bom: true, record_delimiter: '\r\n' });
    expect(row?.[header!.indexOf('contact.displayName')]).toBe(tricky);
  });

  it('writes flat cells: empty for absent and null, true/false, values of an array joined, objects in an array as JSON', () => {
    const [, row] = table(
      file([
        {
          id: 'a',
          count: -5,
          active: false,
          contact: null,
          owner: { kind: 'sync', portalId: 'p1' },
          aliases: ['a@x.com', 'b@x.com'],
          conflicts: [{ objectId: 'o1' }],
        },
      ]),
      { bom: true },
    );
    expect(row).toEqual(['a', '-5', 'false', '', '', '', 'sync', 'p1', 'a@x.com; b@x.com', '[{"objectId":"o1"}]']);
  });

  it.each([
    ['=', '=HYPERLINK("http://evil")'],
    ['+', '+1+2'],
    ['-', '-2+3'],
    ['@', '@SUM(A1)'],
    ['tab', '\t=1'],
    ['carriage return', '\r=1'],
  ])('prefixes a text cell starting with %s with an apostrophe', (_what, text) => {
    expect(neutralise(text)).toBe(`'${text}`);
    const [, row] = table(
      file([
        { id: text, count: 0, active: true, contact: null, owner: { kind: 'manual' }, aliases: [text], conflicts: [] },
      ]),
      { bom: true },
    );
    expect(row?.[0]).toBe(`'${text}`);
    expect(row?.[8]).toBe(`'${text}`);
  });

  it('leaves numbers (negative ones too) and ordinary text as they are', () => {
    const [, row] = table(
      file([
        { id: 'x-1', count: -42, active: true, contact: null, owner: { kind: 'manual' }, aliases: [], conflicts: [] },
      ]),
      { bom: true },
    );
    expect(row?.slice(0, 2)).toEqual(['x-1', '-42']);
    expect(neutralise('2026-11-29T10:00:00.000Z')).toBe('2026-11-29T10:00:00.000Z');
  });

  it("keeps a run's conflicts, an array of objects, in one JSON cell", () => {
    const conflicts = csvColumns(runSchema).find((c) => c.name === 'conflicts');
    expect(conflicts?.kind).toBe('json');
  });
});
