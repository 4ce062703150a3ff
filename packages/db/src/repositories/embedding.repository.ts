import { type DataSource, type EntityManager } from 'typeorm';
import { type EmbeddingRow } from '../entities/embedding.entity';
import { insertAsJsonBatches } from './json-batches';
import { PointDeletionRepository } from './point-deletion.repository';

/** What the pipeline needs to know of a chunk already indexed, to decide whether to embed it again. */
export type IndexedChunk = Pick<EmbeddingRow, 'id' | 'chunkKey' | 'contentHash'>;

/** A pending row: planned (not `embedded`) or a checkpoint (embedded, its point written). */
export type PendingChunk = IndexedChunk & { embedded: boolean; indexRunId: string | null };

export type NewEmbedding = Omit<EmbeddingRow, 'status' | 'createdAt' | 'updatedAt' | 'qdrantPointId' | 'embeddedAt' | 'batch' | 'tokens'> & {
  batch?: number | null;
  /** The text's token count when known (a planned row's, counted for its batch). */
  tokens?: number | null;
};

/** A planned row as a batch job reads it to embed and upsert, with its token count when the plan kept it. */
export type RowToEmbed = Pick<EmbeddingRow, 'id' | 'kind' | 'chunkKey' | 'content' | 'metadata' | 'contentHash' | 'tokens'>;

/** A visible chunk as the query service returns it. */
export type HydratedEmbedding = Pick<EmbeddingRow, 'id' | 'catalogId' | 'kind' | 'chunkKey' | 'itemKey' | 'content' | 'metadata'>;

const INSERT_BATCH = 500;

/**
 * `dq_embeddings`: one row per embedded chunk; the row id is the Qdrant point id. Methods that take an
 * `EntityManager` write inside the caller's (fenced) transaction; every removal of rows records their point
 * ids in the delete outbox in that same transaction.
 */
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

  /**
   * Records that active rows now have their vectors in another embedding space (model and size), with the
   * content hash of that space: after a switch of model or size, a reindex finds them current.
   */
  async setSpace(m: EntityManager, catalogId: string, rows: { id: string; contentHash: string }[], space: { model: string; dimensions: number }): Promise<void> {
    if (rows.length === 0) return;
    await m.query(
      `UPDATE dq_embeddings e SET content_hash = x.content_hash, model = $3, dimensions = $4, updated_at = now()
         FROM unnest($2::uuid[], $5::text[]) AS x(id, content_hash)
        WHERE e.catalog_id = $1 AND e.id = x.id AND e.status = 'active'`,
      [catalogId, rows.map((r) => r.id), space.model, space.dimensions, rows.map((r) => r.contentHash)],
    );
  }

  /** The catalog's pending rows: planned work and checkpoints of runs that did not activate yet. */
  async pendingChunks(catalogId: string): Promise<PendingChunk[]> {
    return this.dataSource.query(
      `SELECT id, chunk_key AS "chunkKey", content_hash AS "contentHash", embedded_at IS NOT NULL AS embedded,
              index_run_id AS "indexRunId"
         FROM dq_embeddings WHERE catalog_id = $1 AND status = 'pending'`,
      [catalogId],
    );
  }

  /** Every row of the catalog, visible or not: its id, and whether it is active (one small read per row). */
  async rowIds(catalogId: string): Promise<{ id: string; active: boolean }[]> {
    return this.dataSource.query(`SELECT id, status = 'active' AS active FROM dq_embeddings WHERE catalog_id = $1`, [catalogId]);
  }

  /** Catalog ids that have rows, with their counts by status. */
  async catalogsWithRows(): Promise<{ catalogId: string; active: number; pending: number }[]> {
    const rows: { catalog_id: string; active: string; pending: string }[] = await this.dataSource.query(
      `SELECT catalog_id, count(*) FILTER (WHERE status = 'active') AS active, count(*) FILTER (WHERE status = 'pending') AS pending
         FROM dq_embeddings GROUP BY catalog_id`,
    );
    return rows.map((r) => ({ catalogId: r.catalog_id, active: Number(r.active), pending: Number(r.pending) }));
  }

  /**
   * Writes planned rows as `pending` with no point yet (`embedded_at` null): stored, but invisible to queries
   * until activated. Without a manager, in a statement of its own (already-embedded rows for tests).
   */
  async insertPending(rows: NewEmbedding[], m?: EntityManager, options: { embedded?: boolean } = {}): Promise<void> {
    const runner = m ?? this.dataSource.manager;
    const embedded = options.embedded ?? m === undefined;
    // The columns a plan's rows share (catalog, model, size, run) are sent once per statement, not once per row.
    const groups = new Map<string, NewEmbedding[]>();
    for (const r of rows) {
      const shared = [r.catalogId, r.model, r.dimensions, r.indexRunId ?? ''].join('\u0000');
      const group = groups.get(shared);
      if (group) group.push(r);
      else groups.set(shared, [r]);
    }
    for (const group of groups.values()) {
      const { catalogId, model, dimensions, indexRunId } = group[0]!;
      const json = group.map((r) => ({
        id: r.id,
        kind: r.kind,
        chunk_key: r.chunkKey,
        item_key: r.itemKey,
        content: r.content,
        metadata: r.metadata,
        content_hash: r.contentHash,
        batch: r.batch ?? null,
        tokens: r.tokens ?? null,
      }));
      await insertAsJsonBatches(json, INSERT_BATCH, (batch) =>
        runner.query(
          `INSERT INTO dq_embeddings (id, catalog_id, kind, chunk_key, item_key, content, metadata, qdrant_point_id,
                                      content_hash, model, dimensions, status, index_run_id, batch, tokens, embedded_at)
           SELECT x.id, $3::uuid, x.kind, x.chunk_key, x.item_key, x.content, x.metadata, x.id,
                  x.content_hash, $4::text, $5::int, 'pending', $6::uuid, x.batch, x.tokens,
                  CASE WHEN $2 THEN now() END
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, kind text, chunk_key text, item_key text, content text,
                  metadata jsonb, content_hash text, batch int, tokens int)`,
          [batch, embedded, catalogId, model, dimensions, indexRunId ?? null],
        ),
      );
    }
  }

  /** Hands checkpoints of earlier attempts to `runId`, so its activation takes them. */
  async adopt(m: EntityManager, catalogId: string, ids: readonly string[], runId: string): Promise<void> {
    if (ids.length === 0) return;
    await m.query(
      `UPDATE dq_embeddings SET index_run_id = $3, batch = NULL
        WHERE catalog_id = $1 AND id = ANY($2::uuid[]) AND status = 'pending'`,
      [catalogId, ids, runId],
    );
  }

  /**
   * Claims the rows of one batch of a run that still have no point and runs `work` on them inside one
   * transaction that holds them `FOR UPDATE SKIP LOCKED`: a second execution of the same batch (a job taken
   * up again while its first execution still runs, after a Redis outage or a lost lock) finds them claimed
   * and does not pay for them again. `work` marks them embedded through the manager it gets, so the claim and
   * the checkpoint commit together. A process that dies drops its connection, and with it the claim.
   */
  async claimBatch<T>(
    runId: string,
    batch: number,
    work: (rows: RowToEmbed[], m: EntityManager) => Promise<T>,
  ): Promise<{ claimed: true; value: T } | { claimed: false; remaining: number }> {
    return this.dataSource.transaction(async (m) => {
      const rows: RowToEmbed[] = await m.query(
        `SELECT id, kind, chunk_key AS "chunkKey", content, metadata, content_hash AS "contentHash", tokens
           FROM dq_embeddings
          WHERE index_run_id = $1 AND batch = $2 AND status = 'pending' AND embedded_at IS NULL
          ORDER BY chunk_key
          FOR UPDATE SKIP LOCKED`,
        [runId, batch],
      );
      if (rows.length > 0) return { claimed: true as const, value: await work(rows, m) };
      const left: { n: string }[] = await m.query(
        `SELECT count(*) AS n FROM dq_embeddings
          WHERE index_run_id = $1 AND batch = $2 AND status = 'pending' AND embedded_at IS NULL`,
        [runId, batch],
      );
      return { claimed: false as const, remaining: Number(left[0]?.n ?? 0) };
    });
  }

  /** The rows of one batch of a run that still have no point (read only; a batch job uses {@link claimBatch}). */
  async batchToEmbed(runId: string, batch: number): Promise<RowToEmbed[]> {
    return this.dataSource.query(
      `SELECT id, kind, chunk_key AS "chunkKey", content, metadata, content_hash AS "contentHash", tokens
         FROM dq_embeddings
        WHERE index_run_id = $1 AND batch = $2 AND status = 'pending' AND embedded_at IS NULL
        ORDER BY chunk_key`,
      [runId, batch],
    );
  }

  /** Batches of a run that still have rows without a point. */
  async unembeddedBatches(runId: string): Promise<number[]> {
    const rows: { batch: number }[] = await this.dataSource.query(
      `SELECT DISTINCT batch FROM dq_embeddings
        WHERE index_run_id = $1 AND status = 'pending' AND embedded_at IS NULL ORDER BY batch`,
      [runId],
    );
    return rows.map((r) => r.batch);
  }

  /** Marks rows whose points are written: they are now checkpoints a later attempt will not pay for again. */
  async markEmbedded(m: EntityManager, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await m.query(`UPDATE dq_embeddings SET embedded_at = now() WHERE id = ANY($1::uuid[]) AND status = 'pending'`, [ids]);
  }

  /**
   * In the caller's transaction: makes the run's embedded pending rows visible and removes the active rows
   * they replace and those of chunks the catalog no longer has, recording the removed rows' points in the
   * delete outbox. A query sees either the old or the new row of each chunk, never neither. The rows of gone
   * chunks are given either as the ids the plan chose (`retire`) or as every current chunk key (`wantedKeys`:
   * every active row of another key goes).
   */
  async activateRun(
    m: EntityManager,
    catalogId: string,
    runId: string,
    gone: { retire: readonly string[] } | { wantedKeys: readonly string[] },
  ): Promise<{ activated: number; retired: string[] }> {
    const retired: unknown = await m.query(
      `DELETE FROM dq_embeddings
        WHERE catalog_id = $1 AND status = 'active'
          AND (chunk_key IN (SELECT chunk_key FROM dq_embeddings WHERE index_run_id = $2 AND status = 'pending'
                                AND embedded_at IS NOT NULL)
               OR ${'retire' in gone ? 'id = ANY($3::uuid[])' : 'NOT (chunk_key = ANY($3::text[]))'})
        RETURNING id`,
      [catalogId, runId, 'retire' in gone ? gone.retire : gone.wantedKeys],
    );
    const ids = returnedIds(retired);
    await PointDeletionRepository.record(m, catalogId, ids);
    const result: [unknown, number] = await m.query(
      `UPDATE dq_embeddings SET status = 'active', batch = NULL, updated_at = now()
        WHERE catalog_id = $1 AND index_run_id = $2 AND status = 'pending' AND embedded_at IS NOT NULL`,
      [catalogId, runId],
    );
    return { activated: result[1], retired: ids };
  }

  /** Deletes rows by id in the caller's transaction and records their points in the outbox. */
  async removeRows(m: EntityManager, catalogId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const removed = returnedIds(
      await m.query(`DELETE FROM dq_embeddings WHERE catalog_id = $1 AND id = ANY($2::uuid[]) RETURNING id`, [catalogId, ids]),
    );
    await PointDeletionRepository.record(m, catalogId, removed);
    return removed;
  }

  /** Deletes every row of the catalog (deleted catalogs) and records their points in the outbox. */
  async removeAll(m: EntityManager, catalogId: string): Promise<string[]> {
    const removed = returnedIds(await m.query(`DELETE FROM dq_embeddings WHERE catalog_id = $1 RETURNING id`, [catalogId]));
    await PointDeletionRepository.record(m, catalogId, removed);
    return removed;
  }

  /** Deletes rows by id without the outbox (rows whose points are known not to exist). */
  async deleteIds(catalogId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result: [unknown, number] = await this.dataSource.query(
      `DELETE FROM dq_embeddings WHERE catalog_id = $1 AND id = ANY($2::uuid[])`,
      [catalogId, ids],
    );
    return result[1];
  }

  /** Test and migration helper: makes pending rows visible and removes the rows they replace, in one transaction. */
  async activate(catalogId: string, pendingIds: string[], retiredIds: string[]): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (retiredIds.length > 0) await this.removeRows(m, catalogId, retiredIds);
      if (pendingIds.length > 0) {
        await m.query(
          `UPDATE dq_embeddings SET status = 'active', embedded_at = coalesce(embedded_at, now()), updated_at = now()
            WHERE catalog_id = $1 AND id = ANY($2::uuid[]) AND status = 'pending'`,
          [catalogId, pendingIds],
        );
      }
    });
  }

  /**
   * The visible rows among `ids`, in one round trip. Rows that are pending, gone, or belong to a deleted
   * catalog are left out: Postgres decides what a query may return.
   */
  async hydrate(ids: string[], options: { textOf?: readonly string[] } = {}): Promise<Map<string, HydratedEmbedding>> {
    if (ids.length === 0) return new Map();
    // With `textOf`, rows of other kinds come without their content and metadata (empty): a caller that only
    // needs to know they are current reads less.
    const [content, metadata, params] =
      options.textOf === undefined
        ? ['e.content', 'e.metadata', [ids]]
        : [
            `CASE WHEN e.kind = ANY($2::text[]) THEN e.content ELSE '' END AS content`,
            `CASE WHEN e.kind = ANY($2::text[]) THEN e.metadata ELSE '{}'::jsonb END AS metadata`,
            [ids, options.textOf],
          ];
    // Written as a join on the ids so that Postgres looks each one up by primary key: with `id = ANY(…) AND
    // status = 'active'`, statistics that lag behind a bulk load (a fresh reindex) make it combine the
    // primary key with a scan of the whole partial index of active rows, several times slower.
    const rows: HydratedEmbedding[] = await this.dataSource.query(
      `SELECT e.id, e.catalog_id AS "catalogId", e.kind, e.chunk_key AS "chunkKey", e.item_key AS "itemKey",
              ${content}, ${metadata}
         FROM unnest($1::uuid[]) AS wanted(id)
         JOIN dq_embeddings e ON e.id = wanted.id
         JOIN catalogs c ON c.id = e.catalog_id
        WHERE e.status = 'active'`,
      params,
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * What the vector store must hold, and what else it may hold, of one catalog or of every catalog: the
   * active rows (each must have its point) and the embedded pending rows (their points are written, their
   * rows not visible yet). See `servedRows`.
   */
  async servingCounts(catalogId?: string): Promise<{ active: number; embeddedPending: number }> {
    const where = catalogId === undefined ? '' : 'AND catalog_id = $1';
    const rows: { active: string; embedded: string }[] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM dq_embeddings WHERE status = 'active' ${where}) AS active,
              (SELECT count(*) FROM dq_embeddings WHERE status = 'pending' AND embedded_at IS NOT NULL ${where}) AS embedded`,
      catalogId === undefined ? [] : [catalogId],
    );
    return { active: Number(rows[0]?.active ?? 0), embeddedPending: Number(rows[0]?.embedded ?? 0) };
  }

  /**
   * The ids of at most `limit` active rows: of one catalog, or of every catalog that exists, a few of each
   * (`perCatalog`), so that a loss confined to one catalog shows in the sample too. A sample whose points are
   * looked up (see `measureServing`).
   */
  async someActiveIds(limit: number, catalogId?: string, perCatalog = 4): Promise<string[]> {
    const rows: { id: string }[] =
      catalogId === undefined
        ? await this.dataSource.query(
            `SELECT e.id FROM catalogs c
               CROSS JOIN LATERAL (SELECT id FROM dq_embeddings WHERE catalog_id = c.id AND status = 'active' LIMIT $2) e
              LIMIT $1`,
            [limit, perCatalog],
          )
        : await this.dataSource.query(`SELECT id FROM dq_embeddings WHERE status = 'active' AND catalog_id = $2 LIMIT $1`, [limit, catalogId]);
    return rows.map((r) => r.id);
  }

  async countActive(catalogId: string): Promise<number> {
    return (await this.counts(catalogId)).active;
  }

  async counts(catalogId: string): Promise<{ active: number; pending: number }> {
    const rows: { active: string; pending: string }[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'active') AS active, count(*) FILTER (WHERE status = 'pending') AS pending
         FROM dq_embeddings WHERE catalog_id = $1`,
      [catalogId],
    );
    return { active: Number(rows[0]?.active ?? 0), pending: Number(rows[0]?.pending ?? 0) };
  }
}

/** The ids of `DELETE … RETURNING id`: TypeORM answers `[rows, affected]` for a DELETE on Postgres. */
function returnedIds(result: unknown): string[] {
  const rows = Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as unknown[]) : (result as unknown[]);
  return rows.map((r) => (r as { id: string }).id);
}
