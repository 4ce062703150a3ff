import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, IndexRunRepository, openConfiguredDataSource } from '@catalog-indexer/db';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { observeQdrantCall } from '@catalog-indexer/metrics';
import { createRedisConnection, JobProducer } from '@catalog-indexer/queue';
import { CatalogImporter, SourcePolicy } from '@catalog-indexer/importer';
import { createQdrantReader } from '@catalog-indexer/vector-store';
import { createApp } from './app';
import { ApiKeySet, warnWhenOpen } from '@catalog-indexer/http';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const apiKeys = new ApiKeySet(config.auth.apiKeys);
  warnWhenOpen(apiKeys, logger, 'api');
  const dataSource = await openConfiguredDataSource(config.postgres, 'api', logger);
  const redis = createRedisConnection(config.redis, 'producer');
  const jobs = new JobProducer(redis, config.queue.prefix);
  // Read-only: counting a catalog's points for GET /v1/catalogs/:id/index; it never creates a collection.
  const store = createQdrantReader(config.qdrant, { dimensions: config.embeddings.dimensions }, observeQdrantCall);
  const app = createApp({
    apiKeys,
    logger,
    dataSource,
    redis,
    catalogs: new CatalogRepository(dataSource),
    runs: new IndexRunRepository(dataSource),
    jobs,
    maxUploadBytes: config.api.maxUploadBytes,
    countPoints: (catalogId) => store.count(catalogId),
    importer: new CatalogImporter({
      connectMs: config.import.connectTimeoutMs,
      statementMs: config.import.statementTimeoutMs,
      policy: new SourcePolicy(config.import.allowedHosts),
    }),
    pgvector: {
      space: { provider: config.embeddings.provider, model: config.embeddings.model, dimensions: config.embeddings.dimensions },
      databaseUrl: config.postgres.url,
      allowedHosts: config.import.allowedHosts,
      queuePrefix: config.queue.prefix,
      vaultSecret: config.sourceVault.secret,
    },
  });
  const server = app.listen(config.api.port, config.api.host, () => {
    logger.info(
      { port: config.api.port, database: maskUrl(config.postgres.url), redis: maskUrl(config.redis.url), queuePrefix: config.queue.prefix },
      `api listening on http://${config.api.host}:${config.api.port} (Bull Board at /admin/queues)`,
    );
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'api shutting down');
    server.close(() => {
      void (async () => {
        await jobs.close();
        redis.disconnect();
        await dataSource.destroy();
        process.exit(0);
      })();
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => exitOnStartupFailure('api', error));
