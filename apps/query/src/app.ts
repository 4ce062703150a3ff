import express, { type Express } from 'express';
import { type DataSource } from '@catalog-indexer/db';
import { ApiKeySet, checkReadiness, errorHandler, httpMetrics, metricsRoute, limitJsonDepth, notFound, rejectUnsafeText, requestContext, requireApiKey, requireJson } from '@catalog-indexer/http';
import { type Logger } from '@catalog-indexer/logger';
import { identityName, type EmbedderIdentity } from '@catalog-indexer/embeddings';
import { type VectorReader } from '@catalog-indexer/vector-store';
import { type ContextService } from './context.service';
import { type IndexCoverage } from './index-coverage';
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
  /** Says when the vector store lost points of the index (readiness and answers); without it only a missing collection is seen. */
  coverage?: IndexCoverage;
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
    const [readiness, serving] = await Promise.all([
      checkReadiness({
        postgres: () => deps.dataSource.query('SELECT 1').then(() => true),
        qdrant: () => deps.store.ping().then((up) => up || 'the vector store (Qdrant) does not answer'),
        collection: () => deps.store.collectionExists().then((e) => e || `index "${deps.store.collection}" is missing from the vector store`),
        // A Qdrant that restarted empty answers, but has nothing to search until the workers refill it.
        ...(deps.coverage ? { index: () => deps.coverage!.probe() } : {}),
        // Questions are embedded in the served collection's space, which differs from the configured one
        // while the workers switch the index to it.
        ...(deps.embedding ? { embedder: () => deps.embedding!.spaces.current().then(() => true) } : {}),
      }),
      deps.embedding
        ? deps.embedding.spaces.current().then(
            (space) => ({ embedder: identityName(space.embedder), collection: space.collection ?? null }),
            (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
          )
        : undefined,
    ]);
    const { ready, checks, problems } = readiness;
    const embedder = serving && deps.embedding ? { configured: identityName(deps.embedding.configured), serving } : undefined;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, problems, ...(embedder ? { embedder } : {}) });
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
