import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * What a fanned-out, crash-safe reindex needs:
 * - `catalog_leases`: one writer per catalog. A lease expires unless renewed, and every grant raises the
 *   catalog's fence, so a holder that lost its lease cannot write (its writes check the fence in the same
 *   transaction).
 * - `dq_embeddings.embedded_at` / `batch`: a reindex plans its work as `pending` rows first; a batch job sets
 *   `embedded_at` once the row's point is written. Embedded pending rows are checkpoints a retried or
 *   resumed run reuses instead of paying for the same tokens again.
 * - `point_deletions`: the outbox of Qdrant deletes. Rows leave Postgres in the same transaction that records
 *   the ids of their points here; an entry is removed only once Qdrant confirmed the delete.
 * - `index_runs`: `abandoned` runs (superseded by another writer, or their catalog deleted), `reconcile` runs,
 *   and a JSON of details (drift found and repaired).
 */
export class RunsLeasesOutbox1764115200000 implements MigrationInterface {
  name = 'RunsLeasesOutbox1764115200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE catalog_leases (
        catalog_id uuid PRIMARY KEY,
        fence bigint NOT NULL,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`ALTER TABLE dq_embeddings ADD COLUMN embedded_at timestamptz`);
    await q.query(`ALTER TABLE dq_embeddings ADD COLUMN batch integer`);
    await q.query(`UPDATE dq_embeddings SET embedded_at = updated_at`);
    await q.query(`CREATE INDEX dq_embeddings_run_batch ON dq_embeddings (index_run_id, batch) WHERE status = 'pending'`);
    await q.query(`
      CREATE TABLE point_deletions (
        id bigserial PRIMARY KEY,
        catalog_id uuid NOT NULL,
        point_ids uuid[] NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX point_deletions_due ON point_deletions (next_attempt_at)`);
    await q.query(`ALTER TABLE index_runs DROP CONSTRAINT IF EXISTS index_runs_status_check`);
    await q.query(
      `ALTER TABLE index_runs ADD CONSTRAINT index_runs_status_check CHECK (status IN ('running','completed','failed','abandoned'))`,
    );
    await q.query(`ALTER TABLE index_runs DROP CONSTRAINT IF EXISTS index_runs_mode_check`);
    await q.query(
      `ALTER TABLE index_runs ADD CONSTRAINT index_runs_mode_check CHECK (mode IN ('reindex','cleanup','reconcile'))`,
    );
    await q.query(`ALTER TABLE index_runs ADD COLUMN details jsonb`);
    await q.query(`CREATE INDEX index_runs_running ON index_runs (catalog_id) WHERE status = 'running'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX index_runs_running`);
    await q.query(`ALTER TABLE index_runs DROP COLUMN details`);
    await q.query(`DELETE FROM index_runs WHERE mode = 'reconcile'`);
    await q.query(`UPDATE index_runs SET status = 'failed' WHERE status = 'abandoned'`);
    await q.query(`ALTER TABLE index_runs DROP CONSTRAINT index_runs_mode_check`);
    await q.query(`ALTER TABLE index_runs ADD CONSTRAINT index_runs_mode_check CHECK (mode IN ('reindex','cleanup'))`);
    await q.query(`ALTER TABLE index_runs DROP CONSTRAINT index_runs_status_check`);
    await q.query(
      `ALTER TABLE index_runs ADD CONSTRAINT index_runs_status_check CHECK (status IN ('running','completed','failed'))`,
    );
    await q.query(`DROP TABLE point_deletions`);
    await q.query(`DROP INDEX dq_embeddings_run_batch`);
    await q.query(`ALTER TABLE dq_embeddings DROP COLUMN batch`);
    await q.query(`ALTER TABLE dq_embeddings DROP COLUMN embedded_at`);
    await q.query(`DROP TABLE catalog_leases`);
  }
}
