export {
  loadSkuNameCatalog,
  SkuNameCatalog,
  SkuNameCatalogLoader,
  type CatalogLogger,
  type CatalogSource,
  type SkuNameCatalogOptions,
} from './catalog';
export { download } from './download';
export { parseProductNames, type Product } from './products';
export { formatSnapshot, readSnapshot, SHIPPED_SNAPSHOT, snapshotOf, type Snapshot } from './snapshot';
