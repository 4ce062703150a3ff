import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Document and example chunks carry what the context quotes of them in their metadata (a document part's
 * `text`, an example's `sql`) rather than leaving readers to cut it out of the content. Rows written before
 * get it here, read off their content exactly as the chunker wrote it: the heading rebuilt from the
 * metadata they have (`title`, `part`, `parts`; `question`) must match the start of the content, so a row
 * of another shape is left as it is. Content and content hash are untouched: nothing is embedded again.
 */
export class QuotesInChunkMetadata1764892800000 implements MigrationInterface {
  name = 'QuotesInChunkMetadata1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE dq_embeddings e
         SET metadata = e.metadata || jsonb_build_object('text', substr(e.content, length(h.heading) + 1))
        FROM (SELECT id,
                     'Document: ' || (metadata->>'title')
                       || CASE WHEN (metadata->>'parts')::numeric > 1
                               THEN ' (part ' || ((metadata->>'part')::numeric + 1) || ' of ' || (metadata->>'parts') || ')'
                               ELSE '' END
                       || E'\\n' AS heading
                FROM dq_embeddings
               WHERE kind = 'document' AND NOT metadata ? 'text'
                 AND jsonb_typeof(metadata->'title') = 'string'
                 AND jsonb_typeof(metadata->'part') = 'number'
                 AND jsonb_typeof(metadata->'parts') = 'number') h
       WHERE e.id = h.id AND starts_with(e.content, h.heading)`);
    await q.query(`
      UPDATE dq_embeddings
         SET metadata = metadata || jsonb_build_object('sql', substr(content, length('Question: ' || (metadata->>'question') || E'\\nSQL: ') + 1))
       WHERE kind = 'example' AND NOT metadata ? 'sql'
         AND jsonb_typeof(metadata->'question') = 'string'
         AND starts_with(content, 'Question: ' || (metadata->>'question') || E'\\nSQL: ')`);
  }

  async down(): Promise<void> {
    // The keys added are ones earlier versions never read: nothing to undo.
  }
}
