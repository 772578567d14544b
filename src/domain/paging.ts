import { z } from 'zod';

/**
 * Paged lists. A page holds at most `limit` items and, unless it is the last, a continuation token: an opaque,
 * URL-safe string that names where the next page starts. Every list of the API pages the same way, so a caller
 * (the web page, a CSV export) follows `continuationToken` until it is absent.
 */
export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

export interface PageRequest {
  limit: number;
  /** From the previous page; already checked by continuationTokenSchema. */
  continuationToken?: string;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** What a token carries: one or two keys (a storage position, or the sort key and id of the last item). */
export type Cursor = [string] | [string, string];

const cursorSchema = z.union([z.tuple([z.string().max(1024)]), z.tuple([z.string().max(1024), z.string().max(1024)])]);

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** The cursor of a token, or undefined when it is not one this app made. */
export function decodeCursor(token: string): Cursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(token)) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One page of a list the caller holds whole and sorted (short lists: portal accesses, licenses), after the item
 * the token names by its sort key and id.
 */
export function pageOfSorted<T>(
  sorted: readonly T[],
  request: PageRequest,
  keyOf: (item: T) => [sortKey: string, id: string],
  compare: (a: [string, string], b: [string, string]) => number,
): Page<T> {
  const cursor = request.continuationToken === undefined ? undefined : decodeCursor(request.continuationToken);
  const after = cursor ? ([cursor[0], cursor[1] ?? ''] as [string, string]) : undefined;
  const start = after ? sorted.findIndex((item) => compare(keyOf(item), after) > 0) : 0;
  const items = start < 0 ? [] : sorted.slice(start, start + request.limit);
  const last = items[items.length - 1];
  const more = start >= 0 && start + items.length < sorted.length;
  return { items, ...(more && last !== undefined ? { continuationToken: encodeCursor(keyOf(last)) } : {}) };
}

/** By name (case-insensitive), then id: the order of the lists sorted by name. */
export function byNameThenId(a: [string, string], b: [string, string]): number {
  return a[0].localeCompare(b[0], 'en', { sensitivity: 'base' }) || a[1].localeCompare(b[1]);
}
