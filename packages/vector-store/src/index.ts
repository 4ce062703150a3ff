export {
  QdrantStore,
  type QdrantStoreOptions,
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
  VECTOR_NAMES,
} from './qdrant.store';
export { VectorStoreError } from './vector-store.error';
export { createQdrantStore } from './create-store';
