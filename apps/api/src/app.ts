import express, { type Express } from 'express';
import {
  EmbeddingRepository,
  PointDeletionRepository,
  type CatalogRepository,
  type DataSource,
  type IndexRunRepository,
} from '@catalog-indexer/db';
import { errorHandler, notFound, requestContext, requireJson } from '@catalog-indexer/http';
import { type Logger } from '@catalog-indexer/logger';
import { queueReadiness, type JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { BULL_BOARD_PATH, bullBoardRouter } from './bull-board';
import { catalogRoutes } from './routes/catalogs.routes';
import { indexRoutes, type PointCounter } from './routes/index.routes';
import { jobRoutes } from './routes/jobs.routes';

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
}

/** The api: stores catalogs, enqueues jobs, reports their state. Never embeds. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    // A real queue call (job counts), not a PING: it fails when the queue's scripts fail on its slot.
    const queue = await queueReadiness(deps.jobs.queue);
    const checks = {
      postgres: await deps.dataSource.query('SELECT 1').then(() => true, () => false),
      redis: queue.ready,
    };
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, queue });
  });
  app.use(BULL_BOARD_PATH, bullBoardRouter(deps.jobs.queue));
  app.use(requestContext(deps.logger));
  app.use(requireJson);
  app.use(express.json({ limit: deps.maxUploadBytes }));
  app.use('/v1/catalogs', catalogRoutes(deps));
  app.use(
    '/v1/catalogs',
    indexRoutes({
      ...deps,
      embeddings: new EmbeddingRepository(deps.dataSource),
      deletions: new PointDeletionRepository(deps.dataSource),
      countPoints: deps.countPoints ?? (() => Promise.resolve(null)),
    }),
  );
  app.use('/v1/jobs', jobRoutes(deps.jobs));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
