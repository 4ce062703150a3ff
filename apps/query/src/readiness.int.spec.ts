import request from 'supertest';
import { CatalogRepository, EmbeddingRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { LocalEmbedder } from '@catalog-indexer/embeddings';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, startEmulatorProcess, uniqueName, type EmulatorProcess, type TestDatabase } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { createApp } from './app';
import { CatalogGraphCache } from './catalog-graph.cache';
import { ContextService } from './context.service';
import { IndexCoverage } from './index-coverage';
import { SearchService } from './search.service';

const FUSION = { denseWeight: 1, sparseWeight: 3, rrfK: 60, candidates: 200 };

/** Readiness answers within its bound whatever Qdrant does, and says what is wrong. */
describe('query readiness', () => {
  let db: TestDatabase<DataSource>;
  let qdrant: EmulatorProcess;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    qdrant = await startEmulatorProcess('qdrant');
  });
  afterAll(async () => {
    await qdrant?.stop();
    await db?.drop();
  });

  it('answers /readyz within its bound with 503 naming the vector store while Qdrant hangs (SIGSTOP), and 200 once it answers again', async () => {
    const embedder = new LocalEmbedder(16);
    const store = new QdrantStore({ url: qdrant.url, collection: uniqueName('ready'), dimensions: embedder.dimensions });
    await store.ensureCollection();
    const embeddings = new EmbeddingRepository(db.dataSource);
    const coverage = new IndexCoverage(store, embeddings);
    const search = new SearchService(embedder, store, embeddings, FUSION, coverage);
    const context = new ContextService(search, new CatalogGraphCache(new CatalogRepository(db.dataSource)), FUSION.candidates);
    const app = createApp({ logger: createLogger({ level: 'silent' }), dataSource: db.dataSource, store, search, context, coverage });
    expect((await request(app).get('/readyz').expect(200)).body).toEqual({
      status: 'ready',
      checks: { postgres: true, qdrant: true, collection: true, index: true },
      problems: {},
    });

    qdrant.freeze();
    try {
      const started = Date.now();
      const res = await request(app).get('/readyz');
      // 3 s per check, all at once; the rest is this busy machine.
      expect(Date.now() - started).toBeLessThan(4_500);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'not ready', checks: { postgres: true, qdrant: false, collection: false, index: false } });
      expect((res.body as { problems: Record<string, string> }).problems).toEqual({
        qdrant: 'qdrant did not answer within 3000 ms',
        collection: 'collection did not answer within 3000 ms',
        index: 'index did not answer within 3000 ms',
      });
    } finally {
      qdrant.thaw();
    }
    await request(app).get('/readyz').expect(200);
  });
});
