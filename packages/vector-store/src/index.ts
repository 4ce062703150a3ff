export { QdrantStore, type QdrantStoreOptions } from './qdrant.store';
export { QdrantCollections, type QdrantCollectionsOptions } from './qdrant.collections';
export { QdrantPoints, type QdrantPointsOptions } from './qdrant.points';
export { QdrantReader, type QdrantReaderOptions } from './qdrant.reader';
export { QdrantConnection, type QdrantConnectionOptions } from './qdrant.connection';
export { type VectorReader } from './vector-reader';
export {
  type CollectionParams,
  type VectorPoint,
  type PointPayload,
  type SearchHit,
  type SearchOptions,
  type SparseVector,
  type HybridQuery,
  type FusionOptions,
  type EmbeddingSpace,
  type ServedCollection,
  type EnsuredCollection,
  type QdrantCallObserver,
  VECTOR_NAMES,
} from './qdrant.types';
export { VectorStoreError, isPermanentStoreError } from './vector-store.error';
export { createQdrantStore, createQdrantReader } from './create-store';
