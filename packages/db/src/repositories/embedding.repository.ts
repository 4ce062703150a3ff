import { type DataSource } from 'typeorm';
import { type EmbeddingRow } from '../entities/embedding.entity';
import { insertAsJsonBatches } from './json-batches';

/** What the pipeline needs to know of a chunk already indexed, to decide whether to embed it again. */
export type IndexedChunk = Pick<EmbeddingRow, 'id' | 'chunkKey' | 'contentHash'>;

export type NewEmbedding = Omit<EmbeddingRow, 'status' | 'createdAt' | 'updatedAt' | 'qdrantPointId'>;

/** A visible chunk as the query service returns it. */
export type HydratedEmbedding = Pick<EmbeddingRow, 'id' | 'catalogId' | 'kind' | 'chunkKey' | 'itemKey' | 'content' | 'metadata'>;

const INSERT_BATCH = 500;

/** `dq_embeddings`: one row per embedded chunk; the row id is the Qdrant point id. */
export class EmbeddingRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The catalog's visible chunks. */
  async activeChunks(catalogId: string): Promise<IndexedChunk[]> {
    return this.dataSource.query(
      `SELECT id, chunk_key AS "chunkKey", content_hash AS "contentHash"
         FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`,
      [catalogId],
    );
  }

  /** Every row id of the catalog, visible or not. */
  async allIds(catalogId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM dq_embeddings WHERE catalog_id = $1`,
      [catalogId],
    );
    return rows.map((r) => r.id);
  }

  /** Writes rows as `pending`: stored, but invisible to queries until {@link activate}. */
  async insertPending(rows: NewEmbedding[]): Promise<void> {
    const json = rows.map((r) => ({
      id: r.id,
      catalog_id: r.catalogId,
      kind: r.kind,
      chunk_key: r.chunkKey,
      item_key: r.itemKey,
      content: r.content,
      metadata: r.metadata,
      content_hash: r.contentHash,
      model: r.model,
      dimensions: r.dimensions,
      index_run_id: r.indexRunId,
    }));
    await insertAsJsonBatches(json, INSERT_BATCH, (batch) =>
      this.dataSource.query(
        `INSERT INTO dq_embeddings (id, catalog_id, kind, chunk_key, item_key, content, metadata, qdrant_point_id,
                                    content_hash, model, dimensions, status, index_run_id)
         SELECT x.id, x.catalog_id, x.kind, x.chunk_key, x.item_key, x.content, x.metadata, x.id,
                x.content_hash, x.model, x.dimensions, 'pending', x.index_run_id
           FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, catalog_id uuid, kind text, chunk_key text,
                item_key text, content text, metadata jsonb, content_hash text, model text, dimensions int,
                index_run_id uuid)`,
        [batch],
      ),
    );
  }

  /**
   * In one transaction: makes the pending rows visible and removes the rows they replace (and the rows of
   * chunks that no longer exist). A query sees either the old or the new row of each chunk, never neither.
   */
  async activate(catalogId: string, pendingIds: string[], retiredIds: string[]): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (retiredIds.length > 0) {
        await m.query(`DELETE FROM dq_embeddings WHERE catalog_id = $1 AND id = ANY($2::uuid[])`, [
          catalogId,
          retiredIds,
        ]);
      }
      if (pendingIds.length > 0) {
        await m.query(
          `UPDATE dq_embeddings SET status = 'active', updated_at = now()
            WHERE catalog_id = $1 AND id = ANY($2::uuid[]) AND status = 'pending'`,
          [catalogId, pendingIds],
        );
      }
    });
  }

  /** Deletes rows by id (pending rows of a failed run, or all rows of a deleted catalog). */
  async deleteIds(catalogId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result: [unknown, number] = await this.dataSource.query(
      `DELETE FROM dq_embeddings WHERE catalog_id = $1 AND id = ANY($2::uuid[])`,
      [catalogId, ids],
    );
    return result[1];
  }

  /**
   * The visible rows among `ids`, in one round trip. Rows that are pending, gone, or belong to a deleted
   * catalog are left out: Postgres decides what a query may return.
   */
  async hydrate(ids: string[]): Promise<Map<string, HydratedEmbedding>> {
    if (ids.length === 0) return new Map();
    const rows: HydratedEmbedding[] = await this.dataSource.query(
      `SELECT e.id, e.catalog_id AS "catalogId", e.kind, e.chunk_key AS "chunkKey", e.item_key AS "itemKey",
              e.content, e.metadata
         FROM dq_embeddings e JOIN catalogs c ON c.id = e.catalog_id
        WHERE e.id = ANY($1::uuid[]) AND e.status = 'active'`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  async countActive(catalogId: string): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`,
      [catalogId],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
