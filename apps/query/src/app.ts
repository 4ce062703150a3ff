import express, { type Express } from 'express';
import { type DataSource } from '@catalog-indexer/db';
import { ApiKeySet, errorHandler, httpMetrics, metricsRoute, notFound, rejectUnsafeText, requestContext, requireApiKey, requireJson } from '@catalog-indexer/http';
import { type Logger } from '@catalog-indexer/logger';
import { identityName, type EmbedderIdentity } from '@catalog-indexer/embeddings';
import { type VectorReader } from '@catalog-indexer/vector-store';
import { type ContextService } from './context.service';
import { contextRoutes } from './routes/context.routes';
import { queryOpenApiDocument } from './openapi';
import { searchRoutes } from './routes/search.routes';
import { type SearchService } from './search.service';
import { type SpaceSource } from './served-space';

export interface QueryDeps {
  logger: Logger;
  dataSource: DataSource;
  store: VectorReader;
  search: SearchService;
  context: ContextService;
  /** Keys required on every route but `/healthz` and `/readyz`; none means open. */
  apiKeys?: ApiKeySet;
  /**
   * The configured embedder and the space questions are embedded in now, for `/readyz`: not ready when
   * questions cannot be embedded for the served collection (an OpenAI space without a key).
   */
  embedding?: { configured: EmbedderIdentity; spaces: SpaceSource };
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
    const checks: Record<string, boolean> = {
      postgres: await deps.dataSource.query('SELECT 1').then(() => true, () => false),
      qdrant: await deps.store.ping(),
      // A Qdrant that restarted empty answers, but has nothing to search until a worker recreates and refills it.
      collection: await deps.store.collectionExists().catch(() => false),
    };
    let embedder: Record<string, unknown> | undefined;
    if (deps.embedding) {
      // Questions are embedded in the served collection's space, which differs from the configured one
      // while the workers switch the index to it.
      const serving = await deps.embedding.spaces.current().then(
        (space) => ({ embedder: identityName(space.embedder), collection: space.collection ?? null }),
        (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
      );
      checks.embedder = !('error' in serving);
      embedder = { configured: identityName(deps.embedding.configured), serving };
    }
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, ...(embedder ? { embedder } : {}) });
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
  app.use(rejectUnsafeText);
  app.use('/v1', searchRoutes(deps.search));
  app.use('/v1', contextRoutes(deps.context));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
