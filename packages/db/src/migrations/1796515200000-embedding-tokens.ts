import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `dq_embeddings.tokens`: the chunk's token count (cl100k_base, as OpenAI's embedding models count), taken
 * when the run plans its batches, so that the process embedding a batch need not count its texts again.
 * Null for rows written before, which are counted when embedded.
 */
export class EmbeddingTokens1796515200000 implements MigrationInterface {
  name = 'EmbeddingTokens1796515200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dq_embeddings ADD COLUMN IF NOT EXISTS tokens integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE dq_embeddings DROP COLUMN IF EXISTS tokens`);
  }
}
