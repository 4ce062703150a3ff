import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `index_runs.tokens_billed`: the tokens of every embedding call made for a run, retries and attempts whose
 * work was lost included, beside `tokens` (those of the chunks the run embedded).
 */
export class RunsTokensBilled1796342400000 implements MigrationInterface {
  name = 'RunsTokensBilled1796342400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_runs ADD COLUMN IF NOT EXISTS tokens_billed integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_runs DROP COLUMN IF EXISTS tokens_billed`);
  }
}
