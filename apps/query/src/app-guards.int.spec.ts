import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { EmbeddingRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { LocalEmbedder } from '@catalog-indexer/embeddings';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { ApiKeySet } from '@catalog-indexer/http';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { createApp, type QueryDeps } from './app';
import { SearchService } from './search.service';

/** What stands in front of the read path: API keys, text that cannot be used, dependencies that are down. */
describe('query app guards', () => {
  const embedder = new LocalEmbedder('text-embedding-3-small', 32);
  const key = `k-${randomUUID()}`;
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let deps: QueryDeps;

  const storeAt = (url: string) => new QdrantStore({ url, collection: uniqueName('guards'), dimensions: embedder.dimensions });
  const depsWith = (store: QdrantStore): QueryDeps => ({
    logger: createLogger({ level: 'silent' }),
    dataSource: db.dataSource,
    store,
    search: new SearchService(embedder, store, new EmbeddingRepository(db.dataSource)),
  });

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'test', migrate: true }));
    qdrant = new QdrantEmulator();
    const store = storeAt((await qdrant.start(0)).url);
    await store.ensureCollection();
    deps = depsWith(store);
  });
  afterAll(async () => {
    await qdrant.stop();
    await db.drop();
  });

  it('answers 401 without a key and with a wrong key, and searches with a right key', async () => {
    const app = createApp({ ...deps, apiKeys: new ApiKeySet([key]) });
    const body = { catalogId: randomUUID(), query: 'orders' };
    const none = await request(app).post('/v1/search').send(body).expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="catalog-indexer"');
    expect(none.body).toMatchObject({ error: { code: 'unauthorized' } });
    await request(app).post('/v1/search').set('Authorization', 'Bearer nope').send(body).expect(401);
    const ok = await request(app).post('/v1/search').set('Authorization', `Bearer ${key}`).send(body).expect(200);
    expect(ok.body).toMatchObject({ results: [] });
    await request(app).get('/healthz').expect(200);
    await request(app).get('/metrics').expect(401);
    const metrics = await request(app).get('/metrics').set('Authorization', `Bearer ${key}`).expect(200);
    expect(metrics.text).toMatch(/cidx_http_request_duration_seconds_count\{service="query",method="POST",route="\/v1\/search",status="200"\} [1-9]/);
    expect(metrics.text).toMatch(/cidx_http_request_duration_seconds_count\{service="query",method="POST",route="unmatched",status="401"\} [1-9]/);
  });

  it('refuses a question with a NUL character or a lone surrogate with 400 naming the field', async () => {
    const app = createApp(deps);
    for (const query of ['orders\u0000', 'orders \udfff']) {
      const res = await request(app)
        .post('/v1/search')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ catalogId: randomUUID(), query }))
        .expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_text', details: [{ path: 'query' }] } });
    }
  });

  it('answers 503 with Retry-After while Qdrant is unreachable', async () => {
    const down = new QdrantEmulator();
    const { url } = await down.start(0);
    await down.stop();
    const app = createApp(depsWith(storeAt(url)));
    const res = await request(app).post('/v1/search').send({ catalogId: randomUUID(), query: 'orders' }).expect(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toMatchObject({ error: { code: 'service_unavailable' } });
  });
});
