import { chunkCatalog, parseCatalog } from '@catalog-indexer/catalog';
import {
  type CatalogRepository,
  type EmbeddingRepository,
  type IndexRunRepository,
  type LeaseRepository,
  type PointDeletionRepository,
} from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import { type HolderLiveness } from './catalog-lease';
import { forgetDeletedCatalog } from './forget-catalog';
import { LeaseSection } from './lease-section';
import { StoreSync } from './store-sync';

export type CleanupResult =
  | { status: 'completed'; deleted: number; runId?: string; catalogDeleted: boolean }
  | { status: 'busy' };

export interface CleanupDeps {
  catalogs: CatalogRepository;
  embeddings: EmbeddingRepository;
  runs: IndexRunRepository;
  leases: LeaseRepository;
  deletions: PointDeletionRepository;
  store: QdrantStore;
  logger: Logger;
  leaseTtlMs?: number;
  /** Whether the holder of an expired lease is still at work (see `LeaseDeps.liveness`). */
  liveness?: HolderLiveness;
}

/**
 * Removes from the index what should no longer be there: the active chunks of rejected items (and of items
 * gone from the catalog), or everything of a deleted catalog. It holds the catalog's lease like a reindex
 * (the two never run at once). Rows go first, in one fenced transaction that records their points in the
 * delete outbox, so queries stop showing them at once; then the outbox is drained and any point no row owns
 * is deleted. Pending rows are left alone: they belong to a reindex, which keeps or drops them.
 */
export class CleanupService {
  private readonly lease: LeaseSection;
  private readonly sync: StoreSync;

  constructor(private readonly deps: CleanupDeps) {
    this.lease = new LeaseSection(deps);
    this.sync = new StoreSync(deps.embeddings, deps.deletions, deps.store, deps.logger);
  }

  /** Runs the cleanup under the catalog's lease, or answers `busy` while another writer holds it. */
  async cleanup(catalogId: string, options: { jobId?: string | null; holder?: string } = {}): Promise<CleanupResult> {
    const holder = options.holder ?? options.jobId ?? `cleanup-${catalogId}-${Date.now()}`;
    const outcome = await this.lease.withLease(catalogId, holder, async ({ fence }): Promise<CleanupResult> => {
      const { catalogs, embeddings, runs } = this.deps;
      const catalog = await catalogs.get(catalogId);
      if (!catalog) {
        const forgotten = await forgetDeletedCatalog(this.deps, this.sync, fence);
        return { status: 'completed', deleted: forgotten.rows, catalogDeleted: true };
      }
      const run = await runs.start(catalogId, 'cleanup', options.jobId ?? null, catalog.version);
      try {
        const chunks = chunkCatalog(parseCatalog(catalog.document), { rejectedKeys: await catalogs.rejectedKeys(catalogId) });
        const keep = new Set(chunks.map((c) => c.key));
        const stale = (await embeddings.activeChunks(catalogId)).filter((c) => !keep.has(c.chunkKey)).map((c) => c.id);
        const removed = await this.deps.leases.fenced(fence, (m) => embeddings.removeRows(m, catalogId, stale));
        const drained = await this.sync.drainOutbox(catalogId);
        const check = await this.sync.removeOrphanPoints(catalogId);
        const counts = { embedded: 0, skipped: 0, deleted: removed.length + check.orphanPoints, tokens: 0 };
        await runs.complete(run.id, counts, { rowsRemoved: removed.length, pointsDeleted: drained.deleted, orphanPoints: check.orphanPoints });
        return { status: 'completed', deleted: counts.deleted, runId: run.id, catalogDeleted: false };
      } catch (error) {
        await runs.fail(run.id, error instanceof Error ? error.message : String(error));
        throw error;
      }
    });
    return outcome.kind === 'busy' ? { status: 'busy' } : outcome.value;
  }
}
