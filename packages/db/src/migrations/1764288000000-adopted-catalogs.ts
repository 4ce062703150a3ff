import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * - `pgvector_adoptions`: one row per adopted source table (`source` names host, port, database and table,
 *   never a user or password): the checkpoint of the adoption (the last legacy id copied), its counts, the
 *   figures of its verification, and what was dropped from the source.
 * - `catalogs.adopted_from`: set (`pgvector`) on a catalog made by adopting a pgvector-era table, whose rows
 * were copied with their vectors rather than chunked from a document; cleared when the catalog's real
 * document is stored (PUT or import), after which it is indexed the usual way.
 */
export class AdoptedCatalogs1764288000000 implements MigrationInterface {
  name = 'AdoptedCatalogs1764288000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE catalogs ADD COLUMN adopted_from text`);
    await q.query(`
      CREATE TABLE pgvector_adoptions (
        source text PRIMARY KEY,
        last_id uuid,
        counts jsonb NOT NULL DEFAULT '{}'::jsonb,
        dimensions integer,
        model text,
        verified jsonb,
        verified_at timestamptz,
        dropped_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pgvector_adoptions`);
    await q.query(`ALTER TABLE catalogs DROP COLUMN adopted_from`);
  }
}
