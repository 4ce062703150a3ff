import { type EmbeddingRepository, type Fence, type IndexRunRepository, type LeaseRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import { type StoreSync } from './store-sync';

export interface ForgetCatalogDeps {
  embeddings: EmbeddingRepository;
  runs: IndexRunRepository;
  leases: LeaseRepository;
  store: QdrantStore;
  logger: Logger;
}

/** What forgetting a deleted catalog removed. */
export interface ForgottenCatalog {
  /** Rows removed (they were already invisible: hydration joins on catalogs). */
  rows: number;
  /** Points the catalog still had in the store, all deleted. */
  points: number;
  /** Points of the catalog's delete outbox deleted. */
  outboxDeleted: number;
}

/**
 * Removes everything a deleted catalog left in the index, under its lease (`fence`): its rows in one fenced
 * transaction, its runs still marked running (abandoned), its delete outbox, then its points.
 */
export async function forgetDeletedCatalog(deps: ForgetCatalogDeps, sync: StoreSync, fence: Fence): Promise<ForgottenCatalog> {
  const { catalogId } = fence;
  const removed = await deps.leases.fenced(fence, (m) => deps.embeddings.removeAll(m, catalogId));
  await deps.runs.abandonOthers(catalogId, null, 'catalog deleted');
  const drained = await sync.drainOutbox(catalogId);
  const points = await deps.store.count(catalogId);
  if (points > 0) await deps.store.deleteCatalog(catalogId);
  if (removed.length + points > 0) deps.logger.info({ catalogId, rows: removed.length, points }, 'removed the index of a deleted catalog');
  return { rows: removed.length, points, outboxDeleted: drained.deleted };
}
