export {
  loadSkuNameCatalog,
  parseProductNames,
  SkuNameCatalog,
  SkuNameCatalogLoader,
  type CatalogLogger,
  type SkuNameCatalogOptions,
} from './catalog';
