import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { Settings } from '../config/settings';
import { getBlobContainerClient } from '../storage/clients';

/**
 * Plan display names from Microsoft's published product-names list (a CSV with one row per service plan, so
 * many rows per product). The parsed list is cached in blob storage for a day, so instances don't download it
 * at every run. When the list is unreachable or lacks a plan, the plan's part number stands in for its name.
 */

export interface CatalogLogger {
  warn(message: string): void;
}

export interface SkuNameCatalogOptions {
  logger?: CatalogLogger;
  /** The clock of the cache's age (tests move it). */
  now?: () => number;
  /** How long the download may take. */
  timeoutMs?: number;
  /** The largest download accepted (the real list is about 1 MB). */
  maxBytes?: number;
  /** How long a downloaded list is used before it is fetched again. */
  maxAgeMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULTS = { timeoutMs: 30_000, maxBytes: 16 * 1024 * 1024, maxAgeMs: DAY_MS };
const COLUMNS = { name: 'Product_Display_Name', stringId: 'String_Id', guid: 'GUID' } as const;

/** One product: [GUID (lower-case), String_Id, display name]. */
type Product = [string, string, string];

export class SkuNameCatalog {
  private readonly byGuid = new Map<string, string>();
  private readonly byStringId = new Map<string, string>();

  constructor(readonly products: readonly Product[] = []) {
    for (const [guid, stringId, name] of products) {
      if (guid && !this.byGuid.has(guid)) this.byGuid.set(guid, name);
      if (stringId && !this.byStringId.has(stringId.toUpperCase())) this.byStringId.set(stringId.toUpperCase(), name);
    }
  }

  get size(): number {
    return this.byGuid.size;
  }

  /** The plan's display name by its GUID, else by its part number; the part number itself when unknown. */
  displayName(skuId: string, skuPartNumber: string): string {
    return (
      this.byGuid.get(skuId.trim().toLowerCase()) ??
      this.byStringId.get(skuPartNumber.trim().toUpperCase()) ??
      skuPartNumber
    );
  }
}

/** Parses Microsoft's CSV (BOM, quoted commas) into one entry per product. */
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

const cachedSchema = z.object({
  source: z.string(),
  fetchedAt: z.number(),
  products: z.array(z.tuple([z.string(), z.string(), z.string()])),
});
type Cached = z.infer<typeof cachedSchema>;

async function download(url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new Error(`it is larger than ${maxBytes} bytes`);
  if (!response.body) throw new Error('empty response');
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`it is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reason(error: unknown): string {
  // Duck-typed: fetch's DOMException is not always an instance of this realm's Error.
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message, cause } = error as { name?: unknown; message?: unknown; cause?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
    const detail =
      typeof cause === 'object' && cause !== null && 'message' in cause ? `: ${String(cause.message)}` : '';
    return `${String(message)}${detail}`;
  }
  return String(error);
}

/**
 * Loads the catalog: from this instance's memory, else from the blob cache, else from Microsoft. Never throws:
 * without a list, names fall back to part numbers (and a stale cached list beats none).
 */
export class SkuNameCatalogLoader {
  private memory?: Cached;
  private readonly logger: CatalogLogger;
  private readonly now: () => number;
  private readonly limits: typeof DEFAULTS;

  constructor(
    private readonly settings: Pick<Settings, 'storage' | 'tablePrefix' | 'skuNamesUrl'>,
    options: SkuNameCatalogOptions = {},
  ) {
    this.logger = options.logger ?? console;
    this.now = options.now ?? Date.now;
    this.limits = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxBytes: options.maxBytes ?? DEFAULTS.maxBytes,
      maxAgeMs: options.maxAgeMs ?? DEFAULTS.maxAgeMs,
    };
  }

  /** Where the parsed list is cached: the tablePrefix keeps installations (and tests) apart. */
  get blobName(): string {
    return `sku-names/${this.settings.tablePrefix || 'default'}.json`;
  }

  async load(): Promise<SkuNameCatalog> {
    const url = this.settings.skuNamesUrl;
    if (this.memory && this.isFresh(this.memory)) return new SkuNameCatalog(this.memory.products);
    const cached = await this.readCache();
    if (cached && this.isFresh(cached)) {
      this.memory = cached;
      return new SkuNameCatalog(cached.products);
    }
    try {
      const products = parseProductNames(await download(url, this.limits.timeoutMs, this.limits.maxBytes));
      const fresh: Cached = { source: url, fetchedAt: this.now(), products };
      this.memory = fresh;
      await this.writeCache(fresh);
      return new SkuNameCatalog(products);
    } catch (error) {
      const usable = cached?.source === url ? cached : undefined;
      this.logger.warn(
        `Could not load Microsoft's product-names list from ${url} (${reason(error)}); ` +
          (usable
            ? 'using the copy from the last successful download.'
            : "license names use the plan's part number instead."),
      );
      return new SkuNameCatalog(usable?.products ?? []);
    }
  }

  private isFresh(cached: Cached): boolean {
    if (cached.source !== this.settings.skuNamesUrl) return false;
    const age = this.now() - cached.fetchedAt;
    return age >= 0 && age < this.limits.maxAgeMs;
  }

  private async readCache(): Promise<Cached | undefined> {
    try {
      const container = await getBlobContainerClient(this.settings);
      const blob = container.getBlockBlobClient(this.blobName);
      const parsed = cachedSchema.safeParse(JSON.parse((await blob.downloadToBuffer()).toString('utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 404) this.logger.warn(`Could not read the cached product-names list (${reason(error)}).`);
      return undefined;
    }
  }

  private async writeCache(cached: Cached): Promise<void> {
    try {
      const container = await getBlobContainerClient(this.settings);
      const body = JSON.stringify(cached);
      await container.getBlockBlobClient(this.blobName).upload(body, Buffer.byteLength(body), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
    } catch (error) {
      this.logger.warn(`Could not cache the product-names list in blob storage (${reason(error)}).`);
    }
  }
}

/** One-off load (a fresh loader): see SkuNameCatalogLoader. */
export function loadSkuNameCatalog(
  settings: Pick<Settings, 'storage' | 'tablePrefix' | 'skuNamesUrl'>,
  options: SkuNameCatalogOptions = {},
): Promise<SkuNameCatalog> {
  return new SkuNameCatalogLoader(settings, options).load();
}
