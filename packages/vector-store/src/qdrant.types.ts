/** The payload every point carries. `catalog_id` is the tenant key, filtered on every query. */
export interface PointPayload {
  catalog_id: string;
  kind: string;
  schema?: string | null;
  table?: string | null;
  column?: string | null;
  chunk_key: string;
  content_hash: string;
  [key: string]: unknown;
}

/** A sparse vector: unique uint32 `indices` and their `values`. */
export interface SparseVector {
  indices: number[];
  values: number[];
}

export interface VectorPoint {
  id: string;
  /** The embedding (the named dense vector): float32 values as the embedder decoded them, or numbers. */
  vector: Float32Array | number[];
  /** The chunk's term weights (the named sparse vector). */
  sparse: SparseVector;
  payload: PointPayload;
}

export interface SearchHit {
  id: string;
  score: number;
  /** The payload fields asked for with `SearchOptions.payload`. */
  payload?: Record<string, unknown>;
}

/** What a hybrid query looks for: the question's embedding and its terms. */
export interface HybridQuery {
  dense: Float32Array | number[];
  sparse: SparseVector;
}

export interface SearchOptions {
  catalogId: string;
  /** Search this collection rather than the one the configured name serves (a query pins what it resolved). */
  collection?: string;
  limit: number;
  kinds?: string[];
  schemas?: string[];
  tables?: string[];
  /** Weighted reciprocal rank fusion of the two prefetches. */
  fusion: FusionOptions;
  /** Payload fields to return with each hit (none when absent). */
  payload?: readonly string[];
}

/** Weighted RRF: a point's score is Σ weight / (k + rank) over the prefetches that found it. */
export interface FusionOptions {
  denseWeight: number;
  sparseWeight: number;
  k: number;
  /** Points each prefetch returns, at least `limit`. */
  prefetchLimit: number;
}

/** Names of the vectors every point carries. */
export const VECTOR_NAMES = { dense: 'dense', sparse: 'terms' } as const;

/**
 * An embedding space: the embedder (provider, model) and size of the dense vectors a collection holds.
 * `provider` is `null` for a collection made before providers were recorded: its vectors may come from any
 * embedder that ran under that model's name (the local one did), so it matches no configured embedder.
 */
export interface EmbeddingSpace {
  provider: string | null;
  model: string;
  dimensions: number;
}

/** The collection the configured name serves and the space of its vectors. */
export interface ServedCollection extends EmbeddingSpace {
  collection: string;
}

/** What `QdrantCollections.ensureCollection` found. */
export interface EnsuredCollection {
  served: ServedCollection;
  /**
   * The collection to build for this store's space when the served one holds another model or size (a
   * switch is due: see the pipeline's SpaceSwitchService), or `null` when the served one fits.
   */
  switchTo: string | null;
}

/** `shard_number`, `replication_factor` and `write_consistency_factor` of a new collection. */
export interface CollectionParams {
  shardNumber?: number;
  replicationFactor?: number;
  writeConsistencyFactor?: number;
}

/**
 * Called after every request to Qdrant with the operation's name (`upsert points`, `query points`,
 * `list aliases`…), its duration in seconds and whether it succeeded; each attempt of a retried call counts.
 */
export type QdrantCallObserver = (operation: string, seconds: number, outcome: 'ok' | 'error') => void;
