import { type Config } from '@catalog-indexer/config';
import { type Logger } from '@catalog-indexer/logger';
import { QdrantReader } from './qdrant.reader';
import { QdrantStore } from './qdrant.store';
import { type QdrantCallObserver } from './qdrant.types';

/**
 * The store the configuration names, for a writer of vectors of an embedder's space: its size, and its
 * model and provider when known (recorded with the collections it creates; a collection of another space is
 * switched). It creates collections, and creates a lost one again.
 */
export function createQdrantStore(
  config: Config['qdrant'],
  space: { dimensions: number; model?: string; provider?: string },
  logger: Logger,
  observe?: QdrantCallObserver,
): QdrantStore {
  return new QdrantStore({
    url: config.url,
    apiKey: config.apiKey,
    collection: config.collection,
    dimensions: space.dimensions,
    model: space.model,
    provider: space.provider,
    timeoutMs: config.timeoutMs,
    transport: config.transport,
    grpcUrl: config.grpcUrl,
    collectionParams: {
      shardNumber: config.shardNumber,
      replicationFactor: config.replicationFactor,
      writeConsistencyFactor: config.writeConsistencyFactor,
    },
    observe,
    logger,
  });
}

/**
 * The index the configuration names, read-only (the api, the query service): it never creates or changes a
 * collection. `space` is the configured embedder's (size, and model and provider when known).
 */
export function createQdrantReader(
  config: Config['qdrant'],
  space: { dimensions: number; model?: string; provider?: string },
  observe?: QdrantCallObserver,
): QdrantReader {
  return new QdrantReader({
    url: config.url,
    apiKey: config.apiKey,
    collection: config.collection,
    dimensions: space.dimensions,
    model: space.model,
    provider: space.provider,
    timeoutMs: config.timeoutMs,
    transport: config.transport,
    grpcUrl: config.grpcUrl,
    observe,
  });
}
