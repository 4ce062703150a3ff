export { CatalogImporter, type ImportRequest, type ImportResult, type CatalogImporterOptions } from './catalog-importer';
export { ImportError, type ImportErrorCode } from './import.error';
export { parseConnectionString, tlsOptions, type SourceConnection, type SourceDialect, type TlsMode } from './connection-string';
export { SourcePolicy, LOOPBACK_ONLY, type AllowedSource, type Resolve } from './source-policy';
export { postgresClientConfig, postgresSessionSetup } from './postgres.reader';
export { type ReaderTimeouts } from './reader-timeouts';
export { AdoptionError, type AdoptionErrorCode } from './adoption.error';
export { openSource, describeSource, LegacySource, decodeVector, toSql, type LegacyLayout, type LegacyRow } from './pgvector-source';
export {
  checkAdoption,
  checkRollback,
  openLegacy,
  requireVerified,
  IN_PLACE_TABLE,
  type CheckDeps,
  type ServedSpace,
  type AdoptionRequest,
} from './pgvector-check';
