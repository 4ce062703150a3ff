export {
  CATALOG_LIMITS,
  catalogSchema,
  schemaSchema,
  tableSchema,
  columnSchema,
  foreignKeySchema,
  foreignKeyReferenceSchema,
  documentSchema,
  exampleSchema,
} from './catalog.schema';
export type {
  Catalog,
  CatalogInput,
  CatalogSchema,
  CatalogTable,
  CatalogColumn,
  CatalogForeignKey,
  CatalogForeignKeyReference,
  CatalogDocument,
  CatalogExample,
} from './catalog.schema';
export { parseCatalog, parseCatalogWithNotices, formatPath } from './catalog.parser';
export type { ParsedCatalog } from './catalog.parser';
export { findUnsafeText, describeUnsafeText, exceedsJsonDepth, MAX_JSON_DEPTH, type UnsafeText } from './unsafe-text';
export { CatalogValidationError } from './catalog-validation.error';
export type { CatalogProblem } from './catalog-validation.error';
export {
  schemaKey,
  tableKey,
  columnKey,
  relationshipKey,
  quoteName,
  splitDottedKey,
  documentKey,
  exampleKey,
  parseRelationshipKey,
  isKeyUnder,
  isKeyRejected,
} from './keys';
export type { ColumnSet } from './keys';
export { flattenItems } from './items';
export type { CatalogItem, CatalogItemKind } from './items';
export { chunkCatalog, chunkDocument, chunkExample, CHUNK_LIMITS } from './chunker';
export type { Chunk, ChunkKind, ChunkMetadata, ChunkOptions } from './chunker';
export { splitText } from './text-splitter';
export { contentHash, type EmbedderIdentity } from './hash';
export { catalogVocabulary } from './vocabulary';
