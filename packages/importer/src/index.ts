export { CatalogImporter, type ImportRequest, type ImportResult, type CatalogImporterOptions } from './catalog-importer';
export { ImportError, type ImportErrorCode } from './import.error';
export { parseConnectionString, type SourceConnection, type SourceDialect } from './connection-string';
