import { type PointPayload, type SparseVector } from './qdrant.types';

/** A dense vector as the embedder hands it over: float32 values, or plain numbers. */
export type DenseVector = Float32Array | number[];

/** A point to write: its id, its named dense and sparse vectors, its payload. */
export interface PointToWrite {
  id: string;
  dense: DenseVector;
  sparse: SparseVector;
  payload: PointPayload;
}

/** One condition on a keyword field: equal to `value`, or to any of `any`. */
export type KeywordCondition = { key: string; value: string } | { key: string; any: string[] };

/** The only filter the service sends: every condition must hold. */
export interface PointsFilter {
  must: KeywordCondition[];
}

/** The hybrid query: a dense and a sparse prefetch under one filter, fused by weighted RRF. */
export interface HybridRequest {
  dense: DenseVector;
  sparse: SparseVector;
  filter: PointsFilter;
  prefetchLimit: number;
  k: number;
  weights: [dense: number, sparse: number];
  limit: number;
  /** Payload fields to return; none when empty. */
  payload: readonly string[];
}

/** A hit: id, score and the payload fields asked for (none when none were). */
export interface ScoredPoint {
  id: string;
  score: number;
  payload: Record<string, unknown> | undefined;
}

/** What a scroll asks for: a filter, a page size, payload (all, some fields or none) and vectors (all or none). */
export interface ScrollRequest {
  filter?: PointsFilter;
  limit: number;
  payload: boolean | readonly string[];
  vectors: boolean;
  offset?: string | number;
}

/**
 * A scrolled point, its vectors as REST shows them: one unnamed dense vector as a list, named vectors as a map
 * (dense a list, sparse `{indices, values}`); undefined when not asked for.
 */
export interface ScrolledPoint {
  id: string;
  vector: unknown;
  payload: Record<string, unknown> | undefined;
}

/**
 * The requests on points the service sends to Qdrant, over one wire protocol (REST or gRPC). Each method is
 * one request; errors come back as the client threw them (see `qdrant.errors.ts`, which reads both kinds).
 * Writes wait until applied.
 */
export interface PointsTransport {
  readonly name: 'rest' | 'grpc';
  /** Resolves when the endpoint answers (gRPC: Qdrant's health check; REST: at once, the REST side is checked apart). */
  ping(): Promise<void>;
  upsert(collection: string, points: readonly PointToWrite[]): Promise<void>;
  deleteIds(collection: string, ids: readonly string[]): Promise<void>;
  deleteWhere(collection: string, filter: PointsFilter): Promise<void>;
  hybrid(collection: string, request: HybridRequest): Promise<ScoredPoint[]>;
  nearestDense(collection: string, vector: DenseVector, using: string, filter: PointsFilter, limit: number): Promise<string[]>;
  /** The named dense vector `using` of the points among `ids` that exist. */
  denseVectors(collection: string, ids: readonly string[], using: string): Promise<{ id: string; vector: number[] }[]>;
  /** Which of `ids` exist (nothing else is read). */
  existingIds(collection: string, ids: readonly string[]): Promise<string[]>;
  count(collection: string, filter?: PointsFilter): Promise<number>;
  scroll(collection: string, request: ScrollRequest): Promise<{ points: ScrolledPoint[]; next: string | number | undefined }>;
}
