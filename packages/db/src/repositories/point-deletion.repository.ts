import { type DataSource, type EntityManager } from 'typeorm';

export interface DuePointDeletion {
  id: string;
  catalogId: string;
  pointIds: string[];
  attempts: number;
}

/**
 * The outbox of Qdrant deletes. Whoever removes rows records the ids of their points here in the same
 * transaction; an entry leaves only once Qdrant confirmed the delete, so a delete that fails (Qdrant down,
 * the process killed) is retried until it succeeds.
 */
export class PointDeletionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records point ids to delete, inside the caller's transaction. */
  static async record(m: EntityManager, catalogId: string, pointIds: readonly string[]): Promise<string | null> {
    if (pointIds.length === 0) return null;
    const rows: { id: string }[] = await m.query(
      `INSERT INTO point_deletions (catalog_id, point_ids) VALUES ($1, $2::uuid[]) RETURNING id`,
      [catalogId, pointIds],
    );
    return rows[0]?.id ?? null;
  }

  /** Records point ids to delete in a transaction of its own. */
  async record(catalogId: string, pointIds: readonly string[]): Promise<string | null> {
    return this.dataSource.transaction((m) => PointDeletionRepository.record(m, catalogId, pointIds));
  }

  /** Entries due for an attempt (all of one catalog when given), oldest first. */
  async due(limit: number, catalogId?: string): Promise<DuePointDeletion[]> {
    const rows: { id: string; catalog_id: string; point_ids: string[]; attempts: number }[] = await this.dataSource.query(
      `SELECT id, catalog_id, point_ids, attempts FROM point_deletions
        WHERE ($2::uuid IS NULL AND next_attempt_at <= now()) OR catalog_id = $2::uuid
        ORDER BY id LIMIT $1`,
      [limit, catalogId ?? null],
    );
    return rows.map((r) => ({ id: r.id, catalogId: r.catalog_id, pointIds: r.point_ids, attempts: r.attempts }));
  }

  async done(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(`DELETE FROM point_deletions WHERE id = ANY($1::bigint[])`, [ids]);
  }

  /** Notes a failed attempt; the next one waits with capped exponential backoff (1 s … 5 min). */
  async failed(id: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE point_deletions
          SET attempts = attempts + 1, last_error = $2,
              next_attempt_at = now() + least(300, power(2, least(attempts, 9))) * interval '1 second'
        WHERE id = $1`,
      [id, error.slice(0, 2000)],
    );
  }

  async pendingCount(catalogId?: string): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM point_deletions WHERE $1::uuid IS NULL OR catalog_id = $1::uuid`,
      [catalogId ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
