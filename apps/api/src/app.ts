import express, { type Express } from 'express';
import { type CatalogRepository, type DataSource, type IndexRunRepository } from '@catalog-indexer/db';
import { ApiKeySet, errorHandler, notFound, httpMetrics, metricsRoute, rejectUnsafeText, requestContext, requireDependency, requireApiKey, requireJson } from '@catalog-indexer/http';
import { type Logger } from '@catalog-indexer/logger';
import { CatalogImporter } from '@catalog-indexer/importer';
import { recordQueueDepth } from '@catalog-indexer/metrics';
import { type JobProducer } from '@catalog-indexer/queue';
import { type Redis } from 'ioredis';
import { BULL_BOARD_PATH, bullBoardRouter } from './bull-board';
import { apiOpenApiDocument, catalogJsonSchema } from './openapi';
import { catalogRoutes } from './routes/catalogs.routes';
import { importRoutes } from './routes/import.routes';
import { jobRoutes } from './routes/jobs.routes';

export interface ApiDeps {
  logger: Logger;
  dataSource: DataSource;
  redis: Redis;
  catalogs: CatalogRepository;
  runs: IndexRunRepository;
  jobs: JobProducer;
  maxUploadBytes: number;
  /** Keys required on every route but `/healthz` and `/readyz`; none means open. */
  apiKeys?: ApiKeySet;
  /** Reads live databases for `POST /v1/catalogs/import`; default timeouts 10 s to connect, 30 s per statement. */
  importer?: CatalogImporter;
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
    const checks = {
      postgres: await deps.dataSource.query('SELECT 1').then(() => true, () => false),
      redis: await deps.redis.ping().then((p) => p === 'PONG', () => false),
    };
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
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
  app.use(rejectUnsafeText);
  const queueReady = requireDependency('the job queue (Redis)', () => deps.redis.status === 'ready');
  const importer = deps.importer ?? new CatalogImporter({ connectMs: 10_000, statementMs: 30_000 });
  app.use('/v1/catalogs/import', importRoutes({ ...deps, importer, queueReady }));
  app.use('/v1/catalogs', catalogRoutes({ ...deps, queueReady }));
  app.use('/v1/jobs', queueReady, jobRoutes(deps.jobs));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
