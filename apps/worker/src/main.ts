import { loadConfig } from '@catalog-indexer/config';
import { openConfiguredDataSource } from '@catalog-indexer/db';
import { createEmbedder } from '@catalog-indexer/embeddings';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { createRedisConnection } from '@catalog-indexer/queue';
import { createQdrantStore } from '@catalog-indexer/vector-store';
import { observeJobs, startMetricsServer } from './metrics-server';
import { startWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const dataSource = await openConfiguredDataSource(config.postgres, 'worker');
  const embedder = createEmbedder(config.embeddings, logger.child({ component: 'embeddings' }));
  const store = createQdrantStore(config.qdrant, embedder.dimensions, logger.child({ component: 'qdrant' }));
  await store.ensureCollection();
  const connection = createRedisConnection(config.redis.url, 'worker');
  const worker = startWorkers({ config, logger, dataSource, connection, store, embedder });
  observeJobs(worker);
  const metrics = await startMetricsServer({ host: '0.0.0.0', port: config.worker.metricsPort, apiKeys: config.auth.apiKeys, logger });
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
      metrics?.close();
      connection.disconnect();
      await dataSource.destroy();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => exitOnStartupFailure('worker', error));
