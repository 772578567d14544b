import { z } from 'zod';
import type { Settings } from '../config/settings';
import { getBlobContainerClient } from '../storage/clients';
import { download, reason } from './download';
import { parseProductNames, type Product } from './products';
import { readSnapshot, SHIPPED_SNAPSHOT } from './snapshot';

/**
 * Plan display names, from the best list at hand: Microsoft's published product-names list (downloaded, then
 * cached in blob storage for a day so instances don't download it at every run), else the snapshot of it shipped
 * with the app, else the plan's part number. A name missing from the downloaded list is looked up in the snapshot.
 */

export interface CatalogLogger {
  warn(message: string): void;
  info?(message: string): void;
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
  /** The snapshot file; defaults to the one shipped with the app. */
  snapshotPath?: string;
}

/**
 * Where the names come from: Microsoft's list downloaded within the day (here or by another instance), the last
 * download when a newer one failed, the snapshot shipped with the app, or nothing (part numbers).
 */
export type CatalogSource = 'download' | 'stale-download' | 'snapshot' | 'part-numbers';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULTS = { timeoutMs: 30_000, maxBytes: 16 * 1024 * 1024, maxAgeMs: DAY_MS };

export class SkuNameCatalog {
  private readonly byGuid = new Map<string, string>();
  private readonly byStringId = new Map<string, string>();

  /** Where products appear more than once (a download followed by the snapshot), the first one names it. */
  constructor(
    products: readonly Product[] = [],
    readonly source: CatalogSource = 'part-numbers',
  ) {
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

/** After a failed load, the fallback names serve this long before the list is tried again. */
const FAILED_LOAD_RETRY_AFTER_MS = 15 * 60_000;

const cachedSchema = z.object({
  source: z.string(),
  fetchedAt: z.number(),
  products: z.array(z.tuple([z.string(), z.string(), z.string()])),
});
type Cached = z.infer<typeof cachedSchema>;

/**
 * Loads the catalog: from this instance's memory, else from the blob cache, else from Microsoft. Never throws:
 * a stale downloaded list beats the shipped snapshot, which beats part numbers.
 */
export class SkuNameCatalogLoader {
  private memory?: Cached;
  private loading?: Promise<SkuNameCatalog>;
  private fallback?: { catalog: SkuNameCatalog; until: number };
  private shipped?: readonly Product[];
  private readonly logger: CatalogLogger;
  private readonly now: () => number;
  private readonly limits: typeof DEFAULTS;
  private readonly snapshotPath: string;

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
    this.snapshotPath = options.snapshotPath ?? SHIPPED_SNAPSHOT;
  }

  /** Where the parsed list is cached: the tablePrefix keeps installations (and tests) apart. */
  get blobName(): string {
    return `sku-names/${this.settings.tablePrefix || 'default'}.json`;
  }

  load(): Promise<SkuNameCatalog> {
    // Runs that start together (a fan-out's first wave) share one load instead of each reading the cache.
    this.loading ??= this.loadOnce().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<SkuNameCatalog> {
    if (this.fallback && this.now() < this.fallback.until) return this.fallback.catalog;
    const catalog = await this.loadAfresh();
    // A list that could not be loaded is tried again only after a while, not at every run of every portal.
    this.fallback =
      catalog.source === 'download' ? undefined : { catalog, until: this.now() + FAILED_LOAD_RETRY_AFTER_MS };
    return catalog;
  }

  private async loadAfresh(): Promise<SkuNameCatalog> {
    const url = this.settings.skuNamesUrl;
    if (this.memory && this.isFresh(this.memory)) return this.catalog(this.memory.products, 'download');
    const cached = await this.readCache();
    if (cached && this.isFresh(cached)) {
      this.memory = cached;
      return this.catalog(cached.products, 'download');
    }
    try {
      const products = parseProductNames(await download(url, this.limits.timeoutMs, this.limits.maxBytes));
      const fresh: Cached = { source: url, fetchedAt: this.now(), products };
      this.memory = fresh;
      await this.writeCache(fresh);
      this.logger.info?.(`Downloaded Microsoft's product-names list from ${url}: ${products.length} products.`);
      return this.catalog(products, 'download');
    } catch (error) {
      const usable = cached?.source === url ? cached : undefined;
      const problem = `Could not load Microsoft's product-names list from ${url} (${reason(error)}); `;
      if (usable) {
        this.logger.warn(`${problem}using the copy from the last successful download.`);
        return this.catalog(usable.products, 'stale-download');
      }
      const shipped = this.snapshot();
      this.logger.warn(
        problem +
          (shipped.length > 0
            ? `using the copy shipped with the app (${shipped.length} products).`
            : "license names use the plan's part number instead."),
      );
      return shipped.length > 0 ? new SkuNameCatalog(shipped, 'snapshot') : new SkuNameCatalog();
    }
  }

  /** A downloaded list, with the snapshot behind it for products the list no longer has. */
  private catalog(products: readonly Product[], source: CatalogSource): SkuNameCatalog {
    return new SkuNameCatalog([...products, ...this.snapshot()], source);
  }

  /** The shipped snapshot, read once; a broken one is reported and ignored rather than failing a run. */
  private snapshot(): readonly Product[] {
    if (!this.shipped) {
      try {
        this.shipped = readSnapshot(this.snapshotPath).products;
      } catch (error) {
        this.shipped = [];
        this.logger.warn(
          `The product-names list shipped with the app (${this.snapshotPath}) cannot be used (${reason(error)}); ` +
            'without a download, licenses are named by part number. Rebuild or reinstall the app.',
        );
      }
    }
    return this.shipped;
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
