import { chunkCatalog, parseCatalog } from '@catalog-indexer/catalog';
import { type CatalogRepository, type EmbeddingRepository, type IndexRunRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import { StoreSync } from './store-sync';

export interface CleanupResult {
  status: 'completed';
  deleted: number;
  runId?: string;
}

export interface CleanupDeps {
  catalogs: CatalogRepository;
  embeddings: EmbeddingRepository;
  runs: IndexRunRepository;
  store: QdrantStore;
  logger: Logger;
}

/**
 * Removes from the index what should no longer be there: chunks of rejected items (and of items gone from
 * the catalog), or everything of a deleted catalog. Rows go first, so queries stop showing them at once;
 * then their points, then any point no row owns.
 */
export class CleanupService {
  private readonly sync: StoreSync;

  constructor(private readonly deps: CleanupDeps) {
    this.sync = new StoreSync(deps.embeddings, deps.store, deps.logger);
  }

  async cleanup(catalogId: string, options: { jobId?: string | null } = {}): Promise<CleanupResult> {
    const { catalogs, embeddings, store, runs } = this.deps;
    const catalog = await catalogs.get(catalogId);
    if (!catalog) {
      // Deleted catalog: its rows are already invisible (hydration joins on catalogs); remove them for good.
      const ids = await embeddings.allIds(catalogId);
      await embeddings.deleteIds(catalogId, ids);
      await store.deleteCatalog(catalogId);
      this.deps.logger.info({ catalogId, deleted: ids.length }, 'removed the index of a deleted catalog');
      return { status: 'completed', deleted: ids.length };
    }
    const run = await runs.start(catalogId, 'cleanup', options.jobId ?? null, catalog.version);
    try {
      const chunks = chunkCatalog(parseCatalog(catalog.document), { rejectedKeys: await catalogs.rejectedKeys(catalogId) });
      const keep = new Set(chunks.map((c) => c.key));
      const stale = (await embeddings.activeChunks(catalogId)).filter((c) => !keep.has(c.chunkKey)).map((c) => c.id);
      await embeddings.deleteIds(catalogId, stale);
      await store.deleteIds(stale);
      const check = await this.sync.removeOrphanPoints(catalogId);
      const counts = { embedded: 0, skipped: 0, deleted: stale.length + check.orphanPoints, tokens: 0 };
      await runs.complete(run.id, counts);
      return { status: 'completed', deleted: counts.deleted, runId: run.id };
    } catch (error) {
      await runs.fail(run.id, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }
}
