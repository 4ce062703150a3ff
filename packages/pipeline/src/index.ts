export {
  ReindexService,
  type PipelineDeps,
  type RunContext,
  type OpenOutcome,
  type PlanOutcome,
  type ActivateOutcome,
  type BatchResult,
  type ReindexResult,
} from './reindex.service';
export {
  ReindexOrchestrator,
  reindexStateSchema,
  MAX_PLANS,
  SWITCH_WAIT_MS,
  type ReindexAttempt,
  type ReindexOrchestratorOptions,
  type ReindexPort,
  type ReindexState,
  type ReindexStep,
  type BatchStep,
  type RunProgress,
} from './reindex-orchestrator';
export { InProcessFanOut, reindexInProcess, type ReindexOptions, type ReindexProgress } from './in-process-fan-out';
export { LeaseSection, DEFAULT_LEASE_TTL_MS, type HeldLease, type LeaseDeps, type LeaseOutcome, type ResumeOutcome } from './lease-section';
export { type HolderLiveness } from './catalog-lease';
export { forgetDeletedCatalog, type ForgetCatalogDeps, type ForgottenCatalog } from './forget-catalog';
export { CleanupService, type CleanupResult, type CleanupDeps } from './cleanup.service';
export { ReconcileService, summarizeDrifts, type CatalogDrift, type ReconcileDeps, type ReconcileSummary } from './reconcile.service';
export { StoreSync, type SyncReport } from './store-sync';
export {
  CollectionMigrationService,
  type CollectionMigrationDeps,
  type CollectionMigrationResult,
} from './collection-migration.service';
export { SpaceSwitchService, type SpaceSwitchDeps, type SpaceSwitchResult } from './space-switch.service';
export {
  PgvectorAdoptionService,
  DEFAULT_PAGE_SIZE as ADOPTION_PAGE_SIZE,
  type PgvectorAdoptionDeps,
  type AdoptionProgress,
  type AdoptionResult,
  type RollbackResult,
  type Verification,
} from './pgvector-adoption.service';
