import { type EmbeddingRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore } from '@catalog-indexer/vector-store';

/**
 * The moves that keep Qdrant's points in step with Postgres's rows for one catalog. Postgres is the source
 * of truth: a point no row owns is removed; a row is never removed to match Qdrant.
 */
export class StoreSync {
  constructor(
    private readonly embeddings: EmbeddingRepository,
    private readonly store: QdrantStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Compensating deletes of a run that failed before activating: the points it wrote, then its pending rows.
   * When Qdrant cannot be reached the points stay behind, owned by no row: the next run's orphan check
   * removes them, and queries never show them because hydration drops them.
   */
  async compensate(catalogId: string, written: string[]): Promise<void> {
    if (written.length === 0) return;
    try {
      await this.store.deleteIds(written);
    } catch (error) {
      this.logger.error({ catalogId, points: written.length, err: error }, 'compensating delete of points failed');
    }
    await this.embeddings.deleteIds(catalogId, written).catch((error: unknown) => {
      this.logger.error({ catalogId, rows: written.length, err: error }, 'compensating delete of pending rows failed');
    });
  }

  /** Removes rows left `pending` by an earlier attempt, and their points. Returns how many. */
  async removePending(catalogId: string): Promise<number> {
    const all = await this.embeddings.allIds(catalogId);
    const active = new Set((await this.embeddings.activeChunks(catalogId)).map((c) => c.id));
    const pending = all.filter((id) => !active.has(id));
    if (pending.length === 0) return 0;
    await this.store.deleteIds(pending);
    await this.embeddings.deleteIds(catalogId, pending);
    this.logger.info({ catalogId, pending: pending.length }, 'removed the leftovers of an interrupted run');
    return pending.length;
  }

  /**
   * Compares the catalog's points with its rows and deletes the points no row owns. Returns what it found,
   * including rows that have no point.
   */
  async removeOrphanPoints(catalogId: string): Promise<{ orphanPoints: number; missingPoints: number }> {
    const rowIds = new Set(await this.embeddings.allIds(catalogId));
    const pointIds = await this.store.listIds(catalogId);
    const pointSet = new Set(pointIds);
    const orphans = pointIds.filter((id) => !rowIds.has(id));
    if (orphans.length > 0) {
      await this.store.deleteIds(orphans);
      this.logger.warn({ catalogId, orphans: orphans.length }, 'deleted points that no row owns');
    }
    let missingPoints = 0;
    for (const id of rowIds) if (!pointSet.has(id)) missingPoints++;
    return { orphanPoints: orphans.length, missingPoints };
  }
}
