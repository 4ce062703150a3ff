import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `index_runs.vocabulary`: the words of the catalog version a reindex run planned (its identifiers' words,
 * which sparse vectors split compound names against), written by the plan and cleared when the run ends, so
 * that the processes embedding the run's batches read a few kilobytes instead of parsing the whole catalog.
 * Null for runs planned before, whose batches derive it from the catalog as they did.
 */
export class RunVocabulary1796601600000 implements MigrationInterface {
  name = 'RunVocabulary1796601600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_runs ADD COLUMN IF NOT EXISTS vocabulary text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE index_runs DROP COLUMN IF EXISTS vocabulary`);
  }
}
