export { createDataSource, openDataSource, openConfiguredDataSource, runMigrations, ENTITIES, MIGRATIONS, type DataSourceOptions } from './data-source';
export { CatalogEntity, type CatalogRow } from './entities/catalog.entity';
export { CatalogItemEntity, type CatalogItemRow } from './entities/catalog-item.entity';
export { EmbeddingEntity, type EmbeddingRow, type EmbeddingStatus } from './entities/embedding.entity';
export {
  IndexRunEntity,
  type IndexRunRow,
  type IndexRunMode,
  type IndexRunStatus,
} from './entities/index-run.entity';
export {
  CatalogRepository,
  type NewCatalog,
  type NewCatalogItem,
  type CatalogSummary,
} from './repositories/catalog.repository';
export {
  EmbeddingRepository,
  type IndexedChunk,
  type PendingChunk,
  type NewEmbedding,
  type RowToEmbed,
  type HydratedEmbedding,
} from './repositories/embedding.repository';
export { LeaseRepository, assertFence, type Fence, type LeaseView } from './repositories/lease.repository';
export { PointDeletionRepository, type DuePointDeletion } from './repositories/point-deletion.repository';
export {
  PgvectorAdoptionRepository,
  ADOPTED_CHUNK_PREFIX,
  type AdoptedRow,
  type AdoptionRecord,
} from './repositories/pgvector-adoption.repository';
export { LEGACY_TABLE, isLegacyLayout } from './migrations/1732521500000-keep-pgvector-table';
export { FencedError } from './errors/fenced.error';
export { IndexRunRepository, type IndexRunCounts, type RunPlanRecord, type RunRetirement } from './repositories/index-run.repository';
export { measureServing, servedRows, SERVING_SAMPLE, type ServingCounts, type ServedPoints, type Serving } from './serving';
export { checkConnectionBudget, type ConnectionBudget } from './connection-budget';
export type { DataSource, EntityManager } from 'typeorm';
