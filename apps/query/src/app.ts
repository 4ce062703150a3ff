import express, { type Express } from 'express';
import { type DataSource } from '@catalog-indexer/db';
import { ApiKeySet, checkReadiness, errorHandler, httpMetrics, metricsRoute, limitJsonDepth, notFound, rejectUnsafeText, requestContext, requireApiKey, requireJson } from '@catalog-indexer/http';
import { type Logger } from '@catalog-indexer/logger';
import { type VectorReader } from '@catalog-indexer/vector-store';
import { type ContextService } from './context.service';
import { type IndexCoverage } from './index-coverage';
import { contextRoutes } from './routes/context.routes';
import { queryOpenApiDocument } from './openapi';
import { searchRoutes } from './routes/search.routes';
import { type SearchService } from './search.service';

export interface QueryDeps {
  logger: Logger;
  dataSource: DataSource;
  store: VectorReader;
  search: SearchService;
  context: ContextService;
  /** Says when the vector store lost points of the index (readiness and answers); without it only a missing collection is seen. */
  coverage?: IndexCoverage;
  /** Keys required on every route but `/healthz` and `/readyz`; none means open. */
  apiKeys?: ApiKeySet;
}

/** The query service: read path only. */
export function createApp(deps: QueryDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics('query'));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const { ready, checks, problems } = await checkReadiness({
      postgres: () => deps.dataSource.query('SELECT 1').then(() => true),
      qdrant: () => deps.store.ping().then((up) => up || 'the vector store (Qdrant) does not answer'),
      collection: () => deps.store.collectionExists().then((e) => e || `index "${deps.store.collection}" is missing from the vector store`),
      // A Qdrant that restarted empty answers, but has nothing to search until the workers refill it.
      ...(deps.coverage ? { index: () => deps.coverage!.probe() } : {}),
    });
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, problems });
  });
  app.use(requestContext(deps.logger));
  app.use(requireApiKey(deps.apiKeys ?? new ApiKeySet([])));
  app.get('/metrics', metricsRoute());
  const openApi = queryOpenApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(requireJson);
  app.use(express.json({ limit: '64kb' }));
  app.use(limitJsonDepth);
  app.use(rejectUnsafeText);
  app.use('/v1', searchRoutes(deps.search));
  app.use('/v1', contextRoutes(deps.context));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
