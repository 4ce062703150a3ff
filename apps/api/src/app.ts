import express, { type Express } from 'express';
import {
  EmbeddingRepository,
  PointDeletionRepository,
  type CatalogRepository,
  type DataSource,
  type IndexRunRepository,
} from '@catalog-indexer/db';
import {
  ApiKeySet,
  checkReadiness,
  errorHandler,
  httpMetrics,
  metricsRoute,
  notFound,
  READINESS_TIMEOUT_MS,
  limitJsonDepth,
  rejectUnsafeText,
  requestContext,
  requireApiKey,
  requireDependency,
  requireJson,
} from '@catalog-indexer/http';
import { CatalogImporter } from '@catalog-indexer/importer';
import { type Logger } from '@catalog-indexer/logger';
import { recordQueueDepth } from '@catalog-indexer/metrics';
import { queueReadiness, type JobProducer, type QueueReadiness, type RedisClient } from '@catalog-indexer/queue';
import { BULL_BOARD_PATH, bullBoardRouter } from './bull-board';
import { apiOpenApiDocument, catalogJsonSchema } from './openapi';
import { catalogRoutes } from './routes/catalogs.routes';
import { importRoutes } from './routes/import.routes';
import { indexRoutes, type PointCounter } from './routes/index.routes';
import { jobRoutes } from './routes/jobs.routes';
import { migrationRoutes, type MigrationRoutesDeps } from './routes/migrations.routes';

export interface ApiDeps {
  logger: Logger;
  dataSource: DataSource;
  redis: RedisClient;
  catalogs: CatalogRepository;
  runs: IndexRunRepository;
  jobs: JobProducer;
  maxUploadBytes: number;
  /** Counts a catalog's points for `GET /v1/catalogs/:id/index`; without it, points are reported as null. */
  countPoints?: PointCounter;
  /** Keys required on every route but `/healthz` and `/readyz`; none means open. */
  apiKeys?: ApiKeySet;
  /** Reads live databases for `POST /v1/catalogs/import`; default timeouts 10 s to connect, 30 s per statement. */
  importer?: CatalogImporter;
  /** What `POST /v1/migrations/pgvector` checks a source against; without it those routes answer 404. */
  pgvector?: MigrationRoutesDeps['pgvector'];
}

/** The api: stores catalogs, enqueues jobs, reports their state. Never embeds. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(httpMetrics('api'));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    // A real queue call (job counts), not a PING: it fails when the queue's scripts fail on its slot.
    let queue: QueueReadiness = { ready: false, error: 'no answer' };
    const { ready, checks, problems } = await checkReadiness({
      postgres: () => deps.dataSource.query('SELECT 1').then(() => true),
      redis: async () => {
        queue = await queueReadiness(deps.jobs.queue, READINESS_TIMEOUT_MS);
        return queue.ready || (queue.error ?? false);
      },
    });
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, problems, queue });
  });
  const keys = deps.apiKeys ?? new ApiKeySet([]);
  app.use(BULL_BOARD_PATH, requireApiKey(keys, { basic: true, realm: 'Bull Board' }), bullBoardRouter(deps.jobs.queue));
  app.use(requestContext(deps.logger));
  app.use(requireApiKey(keys));
  const openApi = apiOpenApiDocument();
  const catalogFormat = catalogJsonSchema();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/v1/catalog.schema.json', (_req, res) => {
    res.type('application/schema+json').send(JSON.stringify(catalogFormat));
  });
  app.get(
    '/metrics',
    metricsRoute(async () => recordQueueDepth(deps.jobs.queue.name, await deps.jobs.queue.getJobCounts())),
  );
  app.use(requireJson);
  app.use(express.json({ limit: deps.maxUploadBytes }));
  app.use(limitJsonDepth);
  app.use(rejectUnsafeText);
  const queueReady = requireDependency('the job queue (Redis)', () => deps.redis.status === 'ready');
  const importer = deps.importer ?? new CatalogImporter({ connectMs: 10_000, statementMs: 30_000 });
  app.use('/v1/catalogs/import', importRoutes({ ...deps, importer, queueReady }));
  app.use('/v1/catalogs', catalogRoutes({ ...deps, queueReady }));
  app.use(
    '/v1/catalogs',
    indexRoutes({
      ...deps,
      embeddings: new EmbeddingRepository(deps.dataSource),
      deletions: new PointDeletionRepository(deps.dataSource),
      countPoints: deps.countPoints ?? (() => Promise.resolve(null)),
    }),
  );
  if (deps.pgvector) app.use('/v1/migrations', migrationRoutes({ ...deps, pgvector: deps.pgvector, queueReady }));
  app.use('/v1/jobs', queueReady, jobRoutes(deps.jobs));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
