export {
  ReindexService,
  type ReindexOptions,
  type ReindexProgress,
  type ReindexResult,
  type PipelineDeps,
} from './reindex.service';
export { CleanupService, type CleanupResult, type CleanupDeps } from './cleanup.service';
export { StoreSync } from './store-sync';
export {
  CollectionMigrationService,
  type CollectionMigrationDeps,
  type CollectionMigrationResult,
} from './collection-migration.service';
