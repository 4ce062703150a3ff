import { EntitySchema } from 'typeorm';

/**
 * Life of an embedding row: planned `pending` (no point yet, `embeddedAt` null), then embedded (`embeddedAt`
 * set once its Qdrant point is written), then switched to `active` in the same transaction that retires the
 * rows it replaces. Only `active` rows are visible to queries.
 */
export type EmbeddingStatus = 'pending' | 'active';

/** One embedded chunk. Its `id` is also its Qdrant point id; the vector lives only in Qdrant. */
export interface EmbeddingRow {
  id: string;
  catalogId: string;
  kind: string;
  chunkKey: string;
  itemKey: string;
  content: string;
  metadata: Record<string, unknown>;
  qdrantPointId: string;
  contentHash: string;
  model: string;
  dimensions: number;
  status: EmbeddingStatus;
  indexRunId: string | null;
  /** When the row's point was written; null while a planned row waits for its batch. */
  embeddedAt: Date | null;
  /** The batch job of the run that embeds this row (pending rows only). */
  batch: number | null;
  /** The text's token count, taken when planned; null for rows written before it was kept. */
  tokens: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export const EmbeddingEntity = new EntitySchema<EmbeddingRow>({
  name: 'Embedding',
  tableName: 'dq_embeddings',
  columns: {
    id: { type: 'uuid', primary: true },
    catalogId: { name: 'catalog_id', type: 'uuid' },
    kind: { type: 'text' },
    chunkKey: { name: 'chunk_key', type: 'text' },
    itemKey: { name: 'item_key', type: 'text' },
    content: { type: 'text' },
    metadata: { type: 'jsonb' },
    qdrantPointId: { name: 'qdrant_point_id', type: 'uuid' },
    contentHash: { name: 'content_hash', type: 'text' },
    model: { type: 'text' },
    dimensions: { type: 'integer' },
    status: { type: 'text' },
    indexRunId: { name: 'index_run_id', type: 'uuid', nullable: true },
    embeddedAt: { name: 'embedded_at', type: 'timestamptz', nullable: true },
    batch: { type: 'integer', nullable: true },
    tokens: { type: 'integer', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
