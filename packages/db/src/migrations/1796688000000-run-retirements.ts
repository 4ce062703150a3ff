import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * What a reindex run's plan decided about the catalog's index, so that its activation need not read and chunk
 * the catalog again (in whichever process activates):
 * - `index_runs.planned_chunks`: how many chunks the planned version has;
 * - `index_runs.retire`: the active rows the activation removes besides those its rows replace (chunks gone
 *   from the catalog, adopted rows no chunk took over), cleared when the run ends.
 *
 * Null for runs planned before, whose activation chunks the catalog as it did.
 */
export class RunRetirements1796688000000 implements MigrationInterface {
  name = 'RunRetirements1796688000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_runs ADD COLUMN IF NOT EXISTS planned_chunks integer, ADD COLUMN IF NOT EXISTS retire uuid[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_runs DROP COLUMN IF EXISTS retire, DROP COLUMN IF EXISTS planned_chunks`);
  }
}
