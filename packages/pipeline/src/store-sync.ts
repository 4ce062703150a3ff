import { type EmbeddingRepository, type PointDeletionRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore } from '@catalog-indexer/vector-store';

export interface SyncReport {
  /** Points deleted because no row owns them. */
  orphanPoints: number;
  /** Active rows whose point is missing: a reindex embeds them again. */
  missingPoints: number;
}

/**
 * The moves that keep Qdrant's points in step with Postgres's rows. Postgres is the source of truth: a point
 * no row owns is removed; a row is never removed to match Qdrant.
 */
export class StoreSync {
  constructor(
    private readonly embeddings: EmbeddingRepository,
    private readonly deletions: PointDeletionRepository,
    private readonly store: QdrantStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Deletes the points recorded in the outbox (all due entries, or every entry of one catalog), removing
   * each entry once Qdrant confirmed it. A failed delete stays recorded with a later attempt time. Returns
   * how many points were deleted and how many entries are left failing.
   */
  async drainOutbox(catalogId?: string, limit = 200): Promise<{ deleted: number; failed: number }> {
    let deleted = 0;
    let failed = 0;
    for (;;) {
      const due = await this.deletions.due(limit, catalogId);
      if (due.length === 0) break;
      const done: string[] = [];
      for (const entry of due) {
        try {
          await this.store.deleteIds(entry.pointIds);
          done.push(entry.id);
          deleted += entry.pointIds.length;
        } catch (error) {
          failed++;
          await this.deletions.failed(entry.id, error instanceof Error ? error.message : String(error));
          this.logger.warn({ catalogId: entry.catalogId, points: entry.pointIds.length, attempts: entry.attempts + 1, err: error }, 'point delete failed; kept in the outbox');
        }
      }
      await this.deletions.done(done);
      if (failed > 0 || due.length < limit) break;
    }
    return { deleted, failed };
  }

  /**
   * Compares the catalog's points with its rows (active and pending) and deletes the points no row owns.
   * Reports the active rows that have no point.
   *
   * The points are listed before the rows are read. A row is always written before its point, so a point
   * written while this compares (a writer that took the catalog's lease from a holder that stalled) has its
   * row in the read that follows, and is not taken for an orphan.
   */
  async removeOrphanPoints(catalogId: string): Promise<SyncReport> {
    const pointIds = await this.store.listIds(catalogId);
    const rows = await this.embeddings.rowIds(catalogId);
    const rowIds = new Set(rows.map((r) => r.id));
    const pointSet = new Set(pointIds);
    const orphans = pointIds.filter((id) => !rowIds.has(id));
    if (orphans.length > 0) {
      await this.store.deleteIds(orphans);
      this.logger.warn({ catalogId, orphans: orphans.length }, 'deleted points that no row owns');
    }
    let missingPoints = 0;
    for (const row of rows) if (row.active && !pointSet.has(row.id)) missingPoints++;
    return { orphanPoints: orphans.length, missingPoints };
  }
}
