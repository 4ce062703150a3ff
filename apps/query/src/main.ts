import { loadConfig } from '@catalog-indexer/config';
import { openConfiguredDataSource, EmbeddingRepository } from '@catalog-indexer/db';
import { createEmbedder } from '@catalog-indexer/embeddings';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { createQdrantStore } from '@catalog-indexer/vector-store';
import { createApp } from './app';
import { ApiKeySet, warnWhenOpen } from '@catalog-indexer/http';
import { SearchService } from './search.service';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'query' });
  const apiKeys = new ApiKeySet(config.auth.apiKeys);
  warnWhenOpen(apiKeys, logger, 'query');
  const dataSource = await openConfiguredDataSource(config.postgres, 'query');
  const embedder = createEmbedder(config.embeddings, logger.child({ component: 'embeddings' }));
  const store = createQdrantStore(config.qdrant, embedder.dimensions, logger.child({ component: 'qdrant' }));
  await store.ensureCollection();
  const app = createApp({
    apiKeys, logger, dataSource, store, search: new SearchService(embedder, store, new EmbeddingRepository(dataSource)) });
  const server = app.listen(config.query.port, config.query.host, () => {
    logger.info(
      { port: config.query.port, qdrant: config.qdrant.url, collection: config.qdrant.collection, database: maskUrl(config.postgres.url) },
      `query listening on http://${config.query.host}:${config.query.port}`,
    );
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'query shutting down');
    server.close(() => {
      void dataSource.destroy().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => exitOnStartupFailure('query', error));
