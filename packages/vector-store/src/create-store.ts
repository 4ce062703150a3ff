import { type Config } from '@catalog-indexer/config';
import { type Logger } from '@catalog-indexer/logger';
import { QdrantReader } from './qdrant.reader';
import { QdrantStore } from './qdrant.store';
import { type QdrantCallObserver } from './qdrant.types';

/**
 * The store the configuration names, for a writer of vectors of `dimensions` made by `model` (the
 * embedder's): it creates collections, and creates a lost one again.
 */
export function createQdrantStore(
  config: Config['qdrant'],
  dimensions: number,
  logger: Logger,
  model?: string,
  observe?: QdrantCallObserver,
): QdrantStore {
  return new QdrantStore({
    url: config.url,
    apiKey: config.apiKey,
    collection: config.collection,
    dimensions,
    model,
    timeoutMs: config.timeoutMs,
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
 * collection. `dimensions` and `model` are the configured embedder's.
 */
export function createQdrantReader(config: Config['qdrant'], dimensions: number, model?: string, observe?: QdrantCallObserver): QdrantReader {
  return new QdrantReader({ url: config.url, apiKey: config.apiKey, collection: config.collection, dimensions, model, timeoutMs: config.timeoutMs, observe });
}
