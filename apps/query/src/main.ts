import { loadConfig } from '@catalog-indexer/config';
import { openConfiguredDataSource, CatalogRepository, EmbeddingRepository } from '@catalog-indexer/db';
import { createEmbedder } from '@catalog-indexer/embeddings';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { createQdrantReader } from '@catalog-indexer/vector-store';
import { createApp } from './app';
import { CatalogGraphCache } from './catalog-graph.cache';
import { ContextService } from './context.service';
import { IndexCoverage } from './index-coverage';
import { ApiKeySet, warnWhenOpen } from '@catalog-indexer/http';
import { SearchService } from './search.service';
import { ServedSpace } from './served-space';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'query' });
  const apiKeys = new ApiKeySet(config.auth.apiKeys);
  warnWhenOpen(apiKeys, logger, 'query');
  const dataSource = await openConfiguredDataSource(config.postgres, 'query', logger);
  const embeddingsLog = logger.child({ component: 'embeddings' });
  const embedder = createEmbedder(config.embeddings, embeddingsLog);
  // Read-only: the workers create and recreate collections; until one serves, /readyz says so.
  const store = createQdrantReader(config.qdrant, embedder.dimensions, embedder.model);
  // Questions are embedded in the space the served collection holds, which is not the configured one while
  // the workers move the index to a new model or size.
  const spaces = new ServedSpace(store, (space) =>
    space.model === embedder.model && space.dimensions === embedder.dimensions ? embedder : createEmbedder({ ...config.embeddings, ...space }, embeddingsLog),
  );
  const embeddings = new EmbeddingRepository(dataSource);
  const coverage = new IndexCoverage(store, embeddings);
  const search = new SearchService(spaces, store, embeddings, config.retrieval, coverage);
  const context = new ContextService(search, new CatalogGraphCache(new CatalogRepository(dataSource)), config.retrieval.candidates);
  const app = createApp({ apiKeys, logger, dataSource, store, search, context, coverage });
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
