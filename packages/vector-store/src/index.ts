export {
  QdrantStore,
  type QdrantStoreOptions,
  type CollectionParams,
  type VectorPoint,
  type PointPayload,
  type SearchHit,
  type SearchOptions,
} from './qdrant.store';
export { VectorStoreError } from './vector-store.error';
export { createQdrantStore } from './create-store';
