import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, EmbeddingRepository, openConfiguredDataSource } from '@catalog-indexer/db';
import { createEmbedder, createRateLimiter, identityName } from '@catalog-indexer/embeddings';
import { ApiKeySet, warnWhenOpen } from '@catalog-indexer/http';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { observeQdrantCall } from '@catalog-indexer/metrics';
import { CollectionMigrationService } from '@catalog-indexer/pipeline';
import { CATALOG_QUEUE, JobProducer, Queue, RunningJobs, createRedisConnection } from '@catalog-indexer/queue';
import { createQdrantStore } from '@catalog-indexer/vector-store';
import { embeddingReadiness } from './health-server';
import { watchIndex } from './index-watch';
import { observeJobs, startWorkerServer } from './metrics-server';
import { scheduleReconcile } from './reconcile-schedule';
import { drainableLimiter, shutDownGracefully } from './shutdown';
import { startWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const dataSource = await openConfiguredDataSource(config.postgres, 'worker', logger);
  const connection = createRedisConnection(config.redis, 'worker');
  const producerConnection = createRedisConnection(config.redis, 'worker');
  // Every worker process shares the API's rate limit (EMBEDDING_RPM / EMBEDDING_TPM) and its 429 pauses.
  // On SIGTERM a job still waiting for its turn is handed back at once rather than sent from a stopping process.
  const drain = new AbortController();
  const shared = createRateLimiter(config.embeddings, { connection: producerConnection, prefix: config.queue.prefix });
  const limiter = shared && drainableLimiter(shared, drain.signal);
  const embedder = createEmbedder(config.embeddings, logger.child({ component: 'embeddings' }), { limiter });
  const store = createQdrantStore(config.qdrant, embedder, logger.child({ component: 'qdrant' }), observeQdrantCall);
  // An install from before hybrid search moves to the new layout first (dense vectors copied, no embedding).
  const migration = { catalogs: new CatalogRepository(dataSource), embeddings: new EmbeddingRepository(dataSource), store };
  await new CollectionMigrationService({ ...migration, logger: logger.child({ component: 'migration' }) }).migrateLegacy();
  const ensured = await store.ensureCollection();
  const producer = new JobProducer(producerConnection, config.queue.prefix);
  if (ensured.switchTo) {
    // The configured model or size differs from what the index holds: build the new collection in the
    // background (a reconcile run carries the switch) while queries keep using the served one.
    logger.warn(
      { served: ensured.served, target: { collection: ensured.switchTo, embedder: identityName(embedder) } },
      'the index holds another embedder (provider, model) or size: switching it in the background; reindexes wait until it is done',
    );
    await producer.enqueue('reconcile', {});
  }
  // One schedule for the whole deployment: every worker writes the same scheduler id, and 0 removes it. A Redis
  // that refuses it now (full, read-only) does not stop the worker: it tries again every minute until it is written.
  const schedule = () => scheduleReconcile(producer.queue, config.worker.reconcileIntervalMs);
  await schedule().catch((error: unknown) => {
    logger.warn({ err: error }, 'could not write the periodic reconcile schedule; trying again every minute');
    const retry = setInterval(() => {
      void schedule().then(() => clearInterval(retry), () => undefined);
    }, 60_000);
    retry.unref();
  });
  const running = new RunningJobs();
  const worker = startWorkers({ config, logger, dataSource, connection, producer, store, embedder, running });
  // A Qdrant back empty, or a lost collection, is rebuilt as soon as it is noticed, not at the next reconcile.
  const stopWatch = watchIndex({ store, embeddings: migration.embeddings, producer, logger: logger.child({ component: 'index-watch' }) });
  // Readiness asks the queue through the worker's own connection: what the worker itself can reach.
  const healthQueue = new Queue(CATALOG_QUEUE, { connection, prefix: config.queue.prefix });
  observeJobs(worker);
  warnWhenOpen(new ApiKeySet(config.auth.apiKeys), logger, 'worker');
  const server = await startWorkerServer({
    host: '0.0.0.0',
    port: config.worker.port,
    apiKeys: config.auth.apiKeys,
    logger,
    health: { dataSource, queue: healthQueue, worker, embedding: () => embeddingReadiness(embedder, store) },
  });
  logger.info(
    {
      pid: process.pid,
      concurrency: config.worker.concurrency,
      qdrant: config.qdrant.url,
      qdrantTransport: config.qdrant.transport,
      collection: config.qdrant.collection,
      database: maskUrl(config.postgres.url),
      queuePrefix: config.queue.prefix,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      redisCluster: config.redis.cluster,
      port: server ? (server.address() as { port: number }).port : null,
    },
    'worker ready',
  );
  const shutdown = (signal: string) => {
    void shutDownGracefully(
      {
        worker,
        drain,
        running,
        timeoutMs: config.worker.shutdownTimeoutMs,
        logger,
        exit: (code) => process.exit(code),
        closeRest: async () => {
          stopWatch();
          server?.close();
          await producer.close();
          await healthQueue.close();
          connection.disconnect();
          producerConnection.disconnect();
          await dataSource.destroy();
        },
      },
      signal,
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => exitOnStartupFailure('worker', error));
