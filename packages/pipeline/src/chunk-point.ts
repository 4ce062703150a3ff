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

/** Points made between two turns of the event loop: few enough (a few milliseconds) to keep its other work waiting little. */
export const POINTS_PER_TURN = 32;

/**
 * The points of rows without their dense vectors (set once the embeddings come), made {@link POINTS_PER_TURN}
 * at a time between turns of the event loop, so that a batch's embeddings request goes out and the process's
 * other batches go on while they are made.
 */
export async function pointsWithoutVectors(
  catalogId: string,
  rows: readonly (PointSource & { contentHash: string })[],
  vocabulary: ReadonlySet<string> | undefined,
): Promise<VectorPoint[]> {
  const points: VectorPoint[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (i % POINTS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const row = rows[i]!;
    points.push(chunkPoint(catalogId, row, row.contentHash, undefined, vocabulary));
  }
  return points;
}
