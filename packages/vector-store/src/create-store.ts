import { type Config } from '@catalog-indexer/config';
import { type Logger } from '@catalog-indexer/logger';
import { QdrantStore } from './qdrant.store';

/** The store the configuration names, for vectors of `dimensions` made by `model` (the embedder's). */
export function createQdrantStore(config: Config['qdrant'], dimensions: number, logger: Logger, model?: string): QdrantStore {
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
    logger,
  });
}
