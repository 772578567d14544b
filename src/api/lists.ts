import { z } from 'zod';
import type { Services } from '../domain/ports';
import { csvColumns, csvRow, csvText, type CsvColumn } from './csv';
import type { Endpoint, EndpointInput } from './endpoint';
import type { ApiResult, Controller } from './http';

/**
 * Lists of the HTTP API: a list endpoint reads its items page by page from a source, and answers JSON
 * (`{ items }`) or, with `?format=csv`, the whole list as a CSV file streamed page by page (src/api/csv.ts).
 * A new list gets CSV by declaring itself with defineListEndpoint and listQuery (schemas.ts) and registering
 * listController(endpoint, source).
 */

export interface ListSpec<I extends z.ZodType = z.ZodType> {
  /** The file name's stem: `<file>-<YYYY-MM-DD>.csv`. */
  file: string;
  /** One item of the 200 response's `items`: the CSV's columns are its fields. */
  item: I;
}

export interface ListEndpoint<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodObject = z.ZodObject,
  I extends z.ZodType = z.ZodType,
> extends Endpoint<P, Q, undefined> {
  method: 'GET';
  list: ListSpec<I>;
}

export function defineListEndpoint<P extends z.ZodType, Q extends z.ZodObject, I extends z.ZodType>(
  endpoint: ListEndpoint<P, Q, I>,
): ListEndpoint<P, Q, I> {
  // Both are programming errors: found by the first test that loads the endpoint list.
  if (!(endpoint.query.shape as Record<string, unknown>).format)
    throw new Error(`${endpoint.name}: make the query of a list with listQuery()`);
  const items: unknown = (endpoint.responses[200]?.schema as z.ZodObject | undefined)?.shape.items;
  if (!(items instanceof z.ZodArray) || items.element !== endpoint.list.item)
    throw new Error(`${endpoint.name}: the 200 response must be { items: z.array(list.item) }`);
  csvColumns(endpoint.list.item);
  return endpoint;
}

export function isListEndpoint(endpoint: Endpoint): endpoint is ListEndpoint {
  return (endpoint as Partial<ListEndpoint>).list !== undefined;
}

/**
 * The items of a list, a page at a time (as storage returns them), so a CSV export never holds the whole list.
 * Whatever a source checks before its first page (the parent exists, the filter is valid) answers as an error.
 */
export type ListSource<E extends ListEndpoint> = (
  input: EndpointInput<E>,
  services: Services,
) => AsyncIterable<readonly z.input<E['list']['item']>[]>;

export function listController<E extends ListEndpoint>(endpoint: E, source: ListSource<E>): Controller<E> {
  return async (input, services) => {
    const pages = source(input, services)[Symbol.asyncIterator]();
    // The first page is read before answering, so a missing license or a failing read is a 404/503 and not a
    // file cut short after its header.
    const first = await pages.next();
    if ((input.query as { format?: string }).format === 'csv') {
      return { status: 200, raw: csvResponse(endpoint, first, pages, services) };
    }
    const items: unknown[] = first.done ? [] : [...first.value];
    for (let page = await pages.next(); !page.done; page = await pages.next()) items.push(...page.value);
    return { status: 200, body: { items } };
  };
}

/** Where a page of a paged list starts and how long it is; `limit` absent: the list's own default. */
export interface PageCursor {
  limit?: number;
  continuationToken?: string;
}

export interface ListPage<T> {
  items: readonly T[];
  /** Absent on the last page. */
  continuationToken?: string;
}

/** One page of a paged list (one with `?limit` and `?continuationToken`) from a cursor. */
export type PageReader<E extends ListEndpoint> = (
  input: EndpointInput<E>,
  services: Services,
  cursor: PageCursor,
) => Promise<ListPage<z.input<E['list']['item']>>>;

/** Pages a CSV export reads at a time: the most Table Storage returns in one response. */
export const EXPORT_PAGE_SIZE = 1000;

/**
 * A paged list: JSON answers the one page the query asks for (`{ items, continuationToken? }`); CSV is the whole
 * list, every page from the first, whatever `limit` and `continuationToken` say.
 */
export function pagedListController<E extends ListEndpoint>(endpoint: E, readPage: PageReader<E>): Controller<E> {
  const whole = listController(endpoint, async function* (input, services) {
    let continuationToken: string | undefined;
    do {
      const page = await readPage(input, services, { limit: EXPORT_PAGE_SIZE, continuationToken });
      yield page.items;
      continuationToken = page.continuationToken;
    } while (continuationToken !== undefined);
  });
  return async (input, services) => {
    const query = input.query as { format?: string; limit?: string; continuationToken?: string };
    if (query.format === 'csv') return whole(input, services);
    const cursor: PageCursor = {
      ...(query.limit !== undefined ? { limit: Number(query.limit) } : {}),
      ...(query.continuationToken !== undefined ? { continuationToken: query.continuationToken } : {}),
    };
    return { status: 200, body: await readPage(input, services, cursor) };
  };
}

/** `portals-2026-11-29.csv`: the list and the day (UTC) it was taken. */
export function csvFileName(endpoint: ListEndpoint, now: Date): string {
  return `${endpoint.list.file}-${now.toISOString().slice(0, 10)}.csv`;
}

function csvResponse(
  endpoint: ListEndpoint,
  first: IteratorResult<readonly unknown[]>,
  rest: AsyncIterator<readonly unknown[]>,
  services: Services,
): NonNullable<ApiResult['raw']> {
  return {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${csvFileName(endpoint, services.now())}"`,
    },
    body: csvChunks(endpoint, csvColumns(endpoint.list.item), first, rest, services),
  };
}

/**
 * The file as it is written: the BOM and header with the first page, then one chunk per page, each page read
 * only when the previous one has been taken (by the host, as the client reads), so memory holds one page.
 */
async function* csvChunks(
  endpoint: ListEndpoint,
  columns: readonly CsvColumn[],
  first: IteratorResult<readonly unknown[]>,
  rest: AsyncIterator<readonly unknown[]>,
  services: Services,
): AsyncGenerator<Uint8Array> {
  let rows = 0;
  try {
    let page = first;
    let header = true;
    while (header || !page.done) {
      const items = page.done ? [] : page.value;
      const cells = items.map((item) => csvRow(parseItem(endpoint, item), columns));
      rows += cells.length;
      yield Buffer.from(csvText(cells, columns, header), 'utf8');
      header = false;
      if (!page.done) page = await rest.next();
    }
  } catch (error) {
    // The status and header are sent: the host aborts the response, so the client sees it incomplete.
    services.logger.error('CSV export failed after its start', {
      function: endpoint.name,
      rows,
      error: error instanceof Error ? error.name : 'Error',
    });
    throw error;
  } finally {
    // A client that went away stops the reading too.
    await rest.return?.();
  }
}

/** Like a JSON response, a row shows only what the schema lists (internal fields never leave). */
function parseItem(endpoint: ListEndpoint, item: unknown): unknown {
  const parsed = endpoint.list.item.safeParse(item);
  if (parsed.success) return parsed.data;
  throw new Error(
    `${endpoint.name}: a listed item does not match its schema at ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
  );
}
