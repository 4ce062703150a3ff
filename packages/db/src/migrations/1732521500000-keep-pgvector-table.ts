import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Where an install of the pgvector-era design keeps its table once this product's migrations have run. */
export const LEGACY_TABLE = 'dq_embeddings_pgvector';

/**
 * Runs before the product's own tables are created. A database of the pgvector-era design has a
 * `dq_embeddings` table of its own (`id, content, embedding vector(n), kind, catalog_id, metadata`), whose
 * name the product's table takes. When the table found there has an `embedding` column of type `vector` and
 * none of the product's columns, it is kept whole under {@link LEGACY_TABLE}: rows, vectors and indexes
 * (its indexes are renamed with it, so the product's own index names stay free). Nothing is dropped; the
 * adoption (`POST /v1/migrations/pgvector`) reads it from there. On any other database this does nothing.
 */
export class KeepPgvectorTable1732521500000 implements MigrationInterface {
  name = 'KeepPgvectorTable1732521500000';

  async up(q: QueryRunner): Promise<void> {
    const columns = (await q.query(
      `SELECT a.attname AS column_name, t.typname AS udt_name
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = to_regclass('dq_embeddings') AND a.attnum > 0 AND NOT a.attisdropped`,
    )) as { column_name: string; udt_name: string }[];
    if (!isLegacyLayout(columns)) return;
    const taken = (await q.query(`SELECT 1 FROM pg_class WHERE oid = to_regclass($1)`, [LEGACY_TABLE])) as unknown[];
    if (taken.length > 0) {
      throw new Error(
        `this database has a pgvector-era dq_embeddings table and also a table ${LEGACY_TABLE}: ` +
          `rename or drop one of them (nothing was changed)`,
      );
    }
    const indexes = (await q.query(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass('dq_embeddings')`,
    )) as { name: string }[];
    await q.query(`ALTER TABLE dq_embeddings RENAME TO ${LEGACY_TABLE}`);
    for (const { name } of indexes) {
      const renamed = name.startsWith('dq_embeddings') ? `${LEGACY_TABLE}${name.slice('dq_embeddings'.length)}` : name;
      if (renamed !== name) await q.query(`ALTER INDEX ${quote(name)} RENAME TO ${quote(renamed.slice(0, 63))}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const kept = (await q.query(`SELECT 1 FROM pg_class WHERE oid = to_regclass($1)`, [LEGACY_TABLE])) as unknown[];
    const product = (await q.query(`SELECT 1 FROM pg_class WHERE oid = to_regclass('dq_embeddings')`)) as unknown[];
    if (kept.length === 0 || product.length > 0) return;
    await q.query(`ALTER TABLE ${LEGACY_TABLE} RENAME TO dq_embeddings`);
  }
}

/** The product's own columns: a table with any of them is the product's, not the pgvector era's. */
const PRODUCT_COLUMNS = ['chunk_key', 'item_key', 'qdrant_point_id', 'content_hash', 'status'];

/** An `embedding` column of type `vector` and none of the product's columns. */
export function isLegacyLayout(columns: readonly { column_name: string; udt_name: string }[]): boolean {
  const embedding = columns.find((c) => c.column_name === 'embedding');
  if (!embedding || embedding.udt_name !== 'vector') return false;
  return !columns.some((c) => PRODUCT_COLUMNS.includes(c.column_name));
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
