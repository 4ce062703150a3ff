import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, EmbeddingRepository, openConfiguredDataSource } from '@catalog-indexer/db';
import { createEmbedder } from '@catalog-indexer/embeddings';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { CollectionMigrationService } from '@catalog-indexer/pipeline';
import { createRedisConnection } from '@catalog-indexer/queue';
import { createQdrantStore } from '@catalog-indexer/vector-store';
import { startWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const dataSource = await openConfiguredDataSource(config.postgres, 'worker');
  const embedder = createEmbedder(config.embeddings, logger.child({ component: 'embeddings' }));
  const store = createQdrantStore(config.qdrant, embedder.dimensions, logger.child({ component: 'qdrant' }));
  // An install from before hybrid search moves to the new layout first (dense vectors copied, no embedding).
  const migration = { catalogs: new CatalogRepository(dataSource), embeddings: new EmbeddingRepository(dataSource), store };
  await new CollectionMigrationService({ ...migration, logger: logger.child({ component: 'migration' }) }).migrateLegacy();
  await store.ensureCollection();
  const connection = createRedisConnection(config.redis.url, 'worker');
  const worker = startWorkers({ config, logger, dataSource, connection, store, embedder });
  logger.info(
    {
      pid: process.pid,
      concurrency: config.worker.concurrency,
      qdrant: config.qdrant.url,
      collection: config.qdrant.collection,
      database: maskUrl(config.postgres.url),
      queuePrefix: config.queue.prefix,
    },
    'worker ready',
  );
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'worker shutting down: finishing active jobs');
    setTimeout(() => process.exit(1), 30_000).unref();
    void (async () => {
      await worker.close();
      connection.disconnect();
      await dataSource.destroy();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => exitOnStartupFailure('worker', error));
