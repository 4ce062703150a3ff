import { type Config } from '@catalog-indexer/config';
import { CatalogRepository, EmbeddingRepository, IndexRunRepository, type DataSource } from '@catalog-indexer/db';
import { type Embedder } from '@catalog-indexer/embeddings';
import { type Logger } from '@catalog-indexer/logger';
import { CleanupService, ReindexService } from '@catalog-indexer/pipeline';
import { createJobWorker, RedisErrorBackoff, type RedisClient, type Worker } from '@catalog-indexer/queue';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import { cleanupJob } from './jobs/cleanup.job';
import { reindexJob } from './jobs/reindex.job';

export interface WorkerDeps {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  connection: RedisClient;
  store: QdrantStore;
  embedder: Embedder;
}

/** The BullMQ worker of this process, with one handler per job name of the catalog. */
export function startWorkers(deps: WorkerDeps): Worker {
  const catalogs = new CatalogRepository(deps.dataSource);
  const embeddings = new EmbeddingRepository(deps.dataSource);
  const runs = new IndexRunRepository(deps.dataSource);
  const logger = deps.logger.child({ component: 'pipeline' });
  const reindex = new ReindexService({ catalogs, embeddings, runs, store: deps.store, embedder: deps.embedder, logger });
  const cleanup = new CleanupService({ catalogs, embeddings, runs, store: deps.store, logger });
  const worker = createJobWorker({
    connection: deps.connection,
    prefix: deps.config.queue.prefix,
    concurrency: deps.config.worker.concurrency,
    handlers: { reindex: reindexJob(reindex), cleanup: cleanupJob(cleanup) },
  });
  const log = deps.logger.child({ component: 'worker' });
  worker.on('active', (job) => log.info({ jobId: job.id, name: job.name, catalogId: (job.data as { catalogId?: string }).catalogId }, 'job started'));
  worker.on('completed', (job) => log.info({ jobId: job.id, name: job.name, result: job.returnvalue as unknown }, 'job completed'));
  worker.on('failed', (job, error) =>
    log.warn({ jobId: job?.id, name: job?.name, attemptsMade: job?.attemptsMade, err: error }, 'job failed'),
  );
  // Failed Redis calls pause the worker with capped exponential backoff and are logged as summaries.
  new RedisErrorBackoff({ logger: log }).attach(worker);
  return worker;
}
