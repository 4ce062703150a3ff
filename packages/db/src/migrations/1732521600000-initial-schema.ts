import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Catalogs, their items, embedded chunks (no vector column: vectors live in Qdrant) and index runs. */
export class InitialSchema1732521600000 implements MigrationInterface {
  name = 'InitialSchema1732521600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE catalogs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text,
        document jsonb NOT NULL,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE catalog_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        catalog_id uuid NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
        key text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('schema','table','column','relationship','document','example')),
        parent_key text,
        name text NOT NULL,
        position integer NOT NULL,
        data jsonb NOT NULL,
        rejected boolean NOT NULL DEFAULT false,
        CONSTRAINT catalog_items_catalog_key UNIQUE (catalog_id, key)
      )`);
    // No foreign key to catalogs: rows (and their points) of a deleted catalog are removed by its cleanup
    // job, and queries hide them at once because hydration joins on the catalog.
    await q.query(`
      CREATE TABLE dq_embeddings (
        id uuid PRIMARY KEY,
        catalog_id uuid NOT NULL,
        kind text NOT NULL,
        chunk_key text NOT NULL,
        item_key text NOT NULL,
        content text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        qdrant_point_id uuid NOT NULL,
        content_hash text NOT NULL,
        model text NOT NULL,
        dimensions integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending','active')),
        index_run_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX dq_embeddings_qdrant_point_id ON dq_embeddings (qdrant_point_id)`);
    await q.query(`CREATE INDEX dq_embeddings_catalog_status ON dq_embeddings (catalog_id, status)`);
    // At most one visible row per chunk: a reindex swaps old for new rows in one transaction.
    await q.query(
      `CREATE UNIQUE INDEX dq_embeddings_active_chunk ON dq_embeddings (catalog_id, chunk_key) WHERE status = 'active'`,
    );
    await q.query(`
      CREATE TABLE index_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        catalog_id uuid NOT NULL,
        job_id text,
        mode text NOT NULL CHECK (mode IN ('reindex','cleanup')),
        status text NOT NULL CHECK (status IN ('running','completed','failed')),
        catalog_version integer NOT NULL,
        embedded integer NOT NULL DEFAULT 0,
        skipped integer NOT NULL DEFAULT 0,
        deleted integer NOT NULL DEFAULT 0,
        tokens integer NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        error text
      )`);
    await q.query(`CREATE INDEX index_runs_catalog_started ON index_runs (catalog_id, started_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE index_runs`);
    await q.query(`DROP TABLE dq_embeddings`);
    await q.query(`DROP TABLE catalog_items`);
    await q.query(`DROP TABLE catalogs`);
  }
}
