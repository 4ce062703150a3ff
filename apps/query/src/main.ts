import { loadConfig } from '@catalog-indexer/config';
import { openConfiguredDataSource, CatalogRepository, EmbeddingRepository } from '@catalog-indexer/db';
import {
  configuredIdentity,
  createEmbedder,
  createRateLimiter,
  createRateLimiterConnection,
  FailOpenRateLimiter,
  identityName,
  type EmbedderIdentity,
} from '@catalog-indexer/embeddings';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { observeQdrantCall } from '@catalog-indexer/metrics';
import { createQdrantReader } from '@catalog-indexer/vector-store';
import { createApp } from './app';
import { CatalogGraphCache } from './catalog-graph.cache';
import { ContextService } from './context.service';
import { IndexCoverage } from './index-coverage';
import { ApiKeySet, warnWhenOpen } from '@catalog-indexer/http';
import { SearchService } from './search.service';
import { questionIdentity, ServedSpace } from './served-space';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'query' });
  const apiKeys = new ApiKeySet(config.auth.apiKeys);
  warnWhenOpen(apiKeys, logger, 'query');
  const dataSource = await openConfiguredDataSource(config.postgres, 'query', logger);
  const embeddingsLog = logger.child({ component: 'embeddings' });
  const configured = configuredIdentity(config.embeddings);
  // Questions take their requests from the workers' shared limiter, within the part of the budget reserved
  // for them (QUERY_EMBEDDING_SHARE); without Redis they go anyway.
  const limiterConnection = configured.provider === 'openai' ? createRateLimiterConnection(config.redis) : undefined;
  const limiterFor = (identity: EmbedderIdentity) => {
    const limiter =
      limiterConnection &&
      createRateLimiter({ ...config.embeddings, model: identity.model }, { connection: limiterConnection, prefix: config.queue.prefix }, 'query');
    return limiter ? new FailOpenRateLimiter(limiter, embeddingsLog) : undefined;
  };
  // A question waits out at most EMBEDDING_MAX_RETRIES 429s, never for ever as a worker's batch does.
  const options = (identity: EmbedderIdentity) => ({ limiter: limiterFor(identity), maxRateLimitWaits: config.embeddings.maxRetries });
  const embedder = createEmbedder(config.embeddings, embeddingsLog, options(configured));
  // Read-only: the workers create and recreate collections; until one serves, /readyz says so.
  const store = createQdrantReader(config.qdrant, embedder, observeQdrantCall);
  // Questions are embedded in the space the served collection holds, which is not the configured one while
  // the workers move the index to another embedder or size.
  const spaces = new ServedSpace(store, (space) => {
    const identity = questionIdentity(space, configured);
    return identityName(identity) === identityName(embedder) ? embedder : createEmbedder(config.embeddings, embeddingsLog, { ...options(identity), identity });
  });
  const embeddings = new EmbeddingRepository(dataSource);
  const coverage = new IndexCoverage(store, embeddings);
  const search = new SearchService(spaces, store, embeddings, config.retrieval, coverage);
  const context = new ContextService(search, new CatalogGraphCache(new CatalogRepository(dataSource)), config.retrieval.candidates);
  const app = createApp({ apiKeys, logger, dataSource, store, search, context, coverage, embedding: { configured, spaces } });
  const server = app.listen(config.query.port, config.query.host, () => {
    logger.info(
      {
        port: config.query.port,
        qdrant: config.qdrant.url,
        qdrantTransport: config.qdrant.transport,
        collection: config.qdrant.collection,
        database: maskUrl(config.postgres.url),
      },
      `query listening on http://${config.query.host}:${config.query.port}`,
    );
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'query shutting down');
    server.close(() => {
      limiterConnection?.disconnect();
      void dataSource.destroy().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => exitOnStartupFailure('query', error));
