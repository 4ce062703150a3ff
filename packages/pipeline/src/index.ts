export {
  ReindexService,
  runBounded,
  type ReindexOptions,
  type ReindexProgress,
  type ReindexResult,
  type PipelineDeps,
  type RunContext,
  type BeginOutcome,
  type PlanOutcome,
  type ActivateOutcome,
  type BatchResult,
} from './reindex.service';
export { CleanupService, type CleanupResult, type CleanupDeps } from './cleanup.service';
export { ReconcileService, type CatalogDrift, type ReconcileDeps } from './reconcile.service';
export { CatalogLease } from './catalog-lease';
export { StoreSync, type SyncReport } from './store-sync';
export {
  CollectionMigrationService,
  type CollectionMigrationDeps,
  type CollectionMigrationResult,
} from './collection-migration.service';
export { SpaceSwitchService, type SpaceSwitchDeps, type SpaceSwitchResult } from './space-switch.service';
export {
  PgvectorAdoptionService,
  type PgvectorAdoptionDeps,
  type AdoptionProgress,
  type AdoptionResult,
  type RollbackResult,
  type Verification,
} from './pgvector-adoption.service';
