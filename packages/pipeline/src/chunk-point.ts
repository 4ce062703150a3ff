import { documentSparseVector } from '@catalog-indexer/text';
import { type VectorPoint } from '@catalog-indexer/vector-store';

/** What a point is made of: a row's id, kind, key, text and metadata. */
export interface PointSource {
  id: string;
  kind: string;
  chunkKey: string;
  content: string;
  metadata: Record<string, unknown>;
}

/**
 * The Qdrant point of one embedding row: its vector, the sparse vector of its text (split against the
 * catalog's `vocabulary`), and the payload queries filter on.
 */
export function chunkPoint(catalogId: string, row: PointSource, contentHash: string, vector: Float32Array | number[] | undefined, vocabulary: ReadonlySet<string> | undefined): VectorPoint {
  return {
    id: row.id,
    vector: vector ?? [],
    sparse: documentSparseVector(row.content, vocabulary),
    payload: {
      catalog_id: catalogId,
      kind: row.kind,
      schema: stringOrNull(row.metadata.schema),
      table: stringOrNull(row.metadata.table),
      column: stringOrNull(row.metadata.column),
      chunk_key: row.chunkKey,
      content_hash: contentHash,
    },
  };
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
