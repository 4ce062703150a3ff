import { type Config } from '@catalog-indexer/config';
import {
  CatalogRepository,
  EmbeddingRepository,
  IndexRunRepository,
  LeaseRepository,
  PointDeletionRepository,
  type DataSource,
} from '@catalog-indexer/db';
import { type Embedder } from '@catalog-indexer/embeddings';
import { type Logger } from '@catalog-indexer/logger';
import { CleanupService, ReconcileService, ReindexOrchestrator, ReindexService, SpaceSwitchService } from '@catalog-indexer/pipeline';
import { createJobWorker, RedisErrorBackoff, workerSlots, type JobProducer, type RunningJobs, type RedisClient, type Worker } from '@catalog-indexer/queue';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import { cleanupJob } from './jobs/cleanup.job';
import { embedBatchJob } from './jobs/embed-batch.job';
import { reconcileJob } from './jobs/reconcile.job';
import { pgvectorJobs } from './jobs/pgvector.job';
import { reindexJob } from './jobs/reindex.job';

export interface WorkerDeps {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  /** The worker's blocking connection (BullMQ waits for Redis forever on it). */
  connection: RedisClient;
  /** Adds batch jobs, follow-ups and reindexes asked for by the reconciler. */
  producer: JobProducer;
  store: QdrantStore;
  embedder: Embedder;
  /** Records the handlers running here, for a graceful shutdown. */
  running?: RunningJobs;
}

/** The BullMQ worker of this process, with one handler per job name of the catalog. */
export function startWorkers(deps: WorkerDeps): Worker {
  const { config } = deps;
  const repositories = {
    catalogs: new CatalogRepository(deps.dataSource),
    embeddings: new EmbeddingRepository(deps.dataSource),
    runs: new IndexRunRepository(deps.dataSource),
    leases: new LeaseRepository(deps.dataSource),
    deletions: new PointDeletionRepository(deps.dataSource),
  };
  const logger = deps.logger.child({ component: 'pipeline' });
  // A lease is taken from its holder only once the holder's job is over: a run blocked by an outage of
  // Postgres (its renewals failing) is late, not dead.
  const liveness = { alive: (holder: string) => deps.producer.isUnfinished(holder) };
  const common = { ...repositories, store: deps.store, logger, leaseTtlMs: config.worker.leaseTtlMs, liveness };
  const { requestsPerMinute, queryShare } = config.embeddings;
  const reindex = new ReindexService({
    ...common,
    embedder: deps.embedder,
    batchMaxInputs: config.embeddings.batchMaxInputs,
    batchMaxTokens: config.embeddings.batchMaxTokens,
    // A plan spreads its batches over every worker's slots, and makes no more than a minute of the workers' requests.
    slots: () => workerSlots(deps.producer.queue, config.worker.concurrency),
    maxBatches: requestsPerMinute ? Math.max(1, Math.floor(requestsPerMinute * (1 - queryShare))) : undefined,
  });
  const cleanup = new CleanupService(common);
  const reconcile = new ReconcileService(common);
  const spaces = new SpaceSwitchService({ ...common, embedder: deps.embedder, batchSize: config.embeddings.batchMaxInputs });
  const orchestrator = new ReindexOrchestrator(reindex, { spaces });
  const coalescer = deps.producer.coalescer;
  const worker = createJobWorker({
    connection: deps.connection,
    prefix: config.queue.prefix,
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
    running: deps.running,
    handlers: {
      reindex: reindexJob(orchestrator, deps.producer, coalescer),
      'embed-batch': embedBatchJob(orchestrator),
      cleanup: cleanupJob(cleanup, coalescer),
      reconcile: reconcileJob(reconcile, deps.producer, spaces),
      ...pgvectorJobs(deps),
    },
  });
  const log = deps.logger.child({ component: 'worker' });
  worker.on('active', (job) => log.debug({ jobId: job.id, name: job.name, catalogId: (job.data as { catalogId?: string }).catalogId }, 'job started'));
  worker.on('completed', (job) => {
    const level = job.name === 'embed-batch' ? 'debug' : 'info';
    log[level]({ jobId: job.id, name: job.name, result: job.returnvalue as unknown }, 'job completed');
  });
  worker.on('failed', (job, error) =>
    log.warn({ jobId: job?.id, name: job?.name, attemptsMade: job?.attemptsMade, err: error }, 'job failed'),
  );
  // Failed Redis calls pause the worker with capped exponential backoff and are logged as summaries.
  new RedisErrorBackoff({ logger: log }).attach(worker);
  return worker;
}
