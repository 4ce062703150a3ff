import { loadConfig } from '@catalog-indexer/config';
import { openConfiguredDataSource } from '@catalog-indexer/db';
import { createEmbedder } from '@catalog-indexer/embeddings';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { CATALOG_QUEUE, createRedisConnection, Queue } from '@catalog-indexer/queue';
import { createQdrantStore } from '@catalog-indexer/vector-store';
import { startHealthServer } from './health-server';
import { startWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const dataSource = await openConfiguredDataSource(config.postgres, 'worker', logger);
  const embedder = createEmbedder(config.embeddings, logger.child({ component: 'embeddings' }));
  const store = createQdrantStore(config.qdrant, embedder.dimensions, logger.child({ component: 'qdrant' }));
  await store.ensureCollection();
  const connection = createRedisConnection(config.redis, 'worker');
  const worker = startWorkers({ config, logger, dataSource, connection, store, embedder });
  const healthQueue = new Queue(CATALOG_QUEUE, { connection, prefix: config.queue.prefix });
  const health =
    config.worker.healthPort === undefined
      ? undefined
      : await startHealthServer({ dataSource, queue: healthQueue, worker }, config.worker.healthPort);
  logger.info(
    {
      pid: process.pid,
      concurrency: config.worker.concurrency,
      qdrant: config.qdrant.url,
      collection: config.qdrant.collection,
      database: maskUrl(config.postgres.url),
      queuePrefix: config.queue.prefix,
      redisCluster: config.redis.cluster,
      healthPort: config.worker.healthPort,
    },
    'worker ready',
  );
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'worker shutting down: finishing active jobs');
    setTimeout(() => process.exit(1), 30_000).unref();
    void (async () => {
      health?.close();
      await worker.close();
      await healthQueue.close();
      connection.disconnect();
      await dataSource.destroy();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => exitOnStartupFailure('worker', error));
