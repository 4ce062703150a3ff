import { type DataSource, type EntityManager } from 'typeorm';
import { insertAsJsonBatches } from './json-batches';

/** A legacy row as the adoption writes it: an active row of the product, its point already written. */
export interface AdoptedRow {
  id: string;
  catalogId: string;
  kind: string;
  content: string;
  metadata: Record<string, unknown>;
  contentHash: string;
  model: string;
  dimensions: number;
}

/** What the adoption of one source table has done so far. */
export interface AdoptionRecord {
  source: string;
  lastId: string | null;
  counts: Record<string, unknown>;
  dimensions: number | null;
  model: string | null;
  verified: Record<string, unknown> | null;
  verifiedAt: Date | null;
  droppedAt: Date | null;
}

/** Prefix of the chunk keys of adopted rows: they come from no catalog document. */
export const ADOPTED_CHUNK_PREFIX = 'pgvector:';

/**
 * The product's side of an adoption of a pgvector-era table: adopted catalogs and rows, and the record
 * (checkpoint, counts, verification) of each source table in `pgvector_adoptions`.
 */
export class PgvectorAdoptionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The ids among `ids` that already have a row in `dq_embeddings` (adopted before, or indexed). */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { id: string }[] = await this.dataSource.query(`SELECT id FROM dq_embeddings WHERE id = ANY($1::uuid[])`, [ids]);
    return new Set(rows.map((r) => r.id));
  }

  /** Creates the adopted catalogs that do not exist yet (same ids), inside the caller's transaction. */
  async ensureCatalogs(m: EntityManager, catalogIds: readonly string[]): Promise<void> {
    if (catalogIds.length === 0) return;
    await m.query(
      `INSERT INTO catalogs (id, name, description, document, adopted_from)
       SELECT c, 'pgvector ' || left(c::text, 8), 'Adopted from a pgvector table',
              jsonb_build_object('name', 'pgvector ' || left(c::text, 8), 'description', 'Adopted from a pgvector table', 'schemas', '[]'::jsonb),
              'pgvector'
         FROM unnest($1::uuid[]) AS c
       ON CONFLICT (id) DO NOTHING`,
      [catalogIds],
    );
  }

  /** Inserts adopted rows as `active` (their points exist), inside the caller's fenced transaction. */
  async insertAdopted(m: EntityManager, rows: readonly AdoptedRow[]): Promise<void> {
    const json = rows.map((r) => ({
      id: r.id,
      catalog_id: r.catalogId,
      kind: r.kind,
      key: `${ADOPTED_CHUNK_PREFIX}${r.id}`,
      content: r.content,
      metadata: r.metadata,
      content_hash: r.contentHash,
      model: r.model,
      dimensions: r.dimensions,
    }));
    await insertAsJsonBatches(json, 500, (batch) =>
      m.query(
        `INSERT INTO dq_embeddings (id, catalog_id, kind, chunk_key, item_key, content, metadata, qdrant_point_id,
                                    content_hash, model, dimensions, status, embedded_at)
         SELECT x.id, x.catalog_id, x.kind, x.key, x.key, x.content, x.metadata, x.id,
                x.content_hash, x.model, x.dimensions, 'active', now()
           FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, catalog_id uuid, kind text, key text, content text,
                metadata jsonb, content_hash text, model text, dimensions int)
         ON CONFLICT (id) DO NOTHING`,
        [batch],
      ),
    );
  }

  /** The catalogs among `catalogIds` that are still adopted: no real document stored since. */
  async stillAdopted(catalogIds: readonly string[]): Promise<string[]> {
    if (catalogIds.length === 0) return [];
    const rows: { id: string }[] = await this.dataSource.query(`SELECT id FROM catalogs WHERE id = ANY($1::uuid[]) AND adopted_from = 'pgvector' ORDER BY id`, [catalogIds]);
    return rows.map((r) => r.id);
  }

  /** What the adopted rows of a catalog name: kind, schema, table, column, and a column's type and description. */
  async namedItems(catalogId: string): Promise<{ kind: string; schema: string; table: string; column: string | null; type: string | null; description: string | null }[]> {
    return this.dataSource.query(
      `SELECT kind, metadata->>'schema' AS schema, metadata->>'table' AS "table", metadata->>'column' AS "column",
              metadata->>'type' AS type, metadata->>'description' AS description
         FROM dq_embeddings
        WHERE catalog_id = $1 AND status = 'active' AND starts_with(chunk_key, $2)
          AND jsonb_typeof(metadata->'schema') = 'string' AND jsonb_typeof(metadata->'table') = 'string'
        ORDER BY id`,
      [catalogId, ADOPTED_CHUNK_PREFIX],
    );
  }

  /**
   * Gives a catalog that is still adopted (no real document stored since) the document its adopted rows
   * describe, inside the caller's fenced transaction; its version moves on only when the document changes.
   */
  async describeAdopted(m: EntityManager, catalogId: string, document: Record<string, unknown>): Promise<boolean> {
    const [, changed]: [unknown, number] = await m.query(
      `UPDATE catalogs SET document = $2::jsonb, version = version + 1, updated_at = now()
        WHERE id = $1 AND adopted_from = 'pgvector' AND document <> $2::jsonb`,
      [catalogId, JSON.stringify(document)],
    );
    return changed > 0;
  }

  /** Adopted rows per catalog among `catalogIds`. */
  async adoptedCounts(catalogIds: readonly string[]): Promise<Map<string, number>> {
    const rows: { catalog_id: string; n: number }[] = await this.dataSource.query(
      `SELECT catalog_id, count(*)::int AS n FROM dq_embeddings
        WHERE catalog_id = ANY($1::uuid[]) AND status = 'active' AND starts_with(chunk_key, $2) GROUP BY 1`,
      [catalogIds, ADOPTED_CHUNK_PREFIX],
    );
    return new Map(rows.map((r) => [r.catalog_id, r.n]));
  }

  async record(source: string): Promise<AdoptionRecord | null> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(`SELECT * FROM pgvector_adoptions WHERE source = $1`, [source]);
    const r = rows[0];
    if (!r) return null;
    return {
      source: r.source as string,
      lastId: (r.last_id as string | null) ?? null,
      counts: (r.counts as Record<string, unknown>) ?? {},
      dimensions: (r.dimensions as number | null) ?? null,
      model: (r.model as string | null) ?? null,
      verified: (r.verified as Record<string, unknown> | null) ?? null,
      verifiedAt: (r.verified_at as Date | null) ?? null,
      droppedAt: (r.dropped_at as Date | null) ?? null,
    };
  }

  /** Opens (or continues) the record of a source; a new copy clears an earlier verification. */
  async begin(source: string, space: { model: string; dimensions: number }): Promise<AdoptionRecord> {
    await this.dataSource.query(
      `INSERT INTO pgvector_adoptions (source, model, dimensions) VALUES ($1, $2, $3)
       ON CONFLICT (source) DO UPDATE SET model = $2, dimensions = $3, updated_at = now()`,
      [source, space.model, space.dimensions],
    );
    return (await this.record(source)) as AdoptionRecord;
  }

  /** Moves the checkpoint past a page whose rows are all written, with the counts so far. */
  async checkpoint(source: string, lastId: string, counts: Record<string, unknown>): Promise<void> {
    await this.dataSource.query(
      `UPDATE pgvector_adoptions SET last_id = $2, counts = $3, updated_at = now() WHERE source = $1`,
      [source, lastId, JSON.stringify(counts)],
    );
  }

  /** Starts the next copy of the source from its first row (after a complete pass). */
  async rewind(source: string): Promise<void> {
    await this.dataSource.query(`UPDATE pgvector_adoptions SET last_id = NULL, updated_at = now() WHERE source = $1`, [source]);
  }

  async setVerified(source: string, verified: Record<string, unknown> | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE pgvector_adoptions SET verified = $2, verified_at = CASE WHEN $2::jsonb IS NULL THEN NULL ELSE now() END, updated_at = now() WHERE source = $1`,
      [source, verified === null ? null : JSON.stringify(verified)],
    );
  }

  async setDropped(source: string): Promise<void> {
    await this.dataSource.query(`UPDATE pgvector_adoptions SET dropped_at = now(), updated_at = now() WHERE source = $1`, [source]);
  }
}
