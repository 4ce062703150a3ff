import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, EmbeddingRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { configuredIdentity, createEmbedder, LocalEmbedder } from '@catalog-indexer/embeddings';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { ApiKeySet } from '@catalog-indexer/http';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, mountedRoutes, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { QdrantReader, QdrantStore, type VectorReader } from '@catalog-indexer/vector-store';
import { createApp, type QueryDeps } from './app';
import { CatalogGraphCache } from './catalog-graph.cache';
import { ContextService } from './context.service';
import { SearchService } from './search.service';
import { questionIdentity, ServedSpace } from './served-space';

/** What stands in front of the read path: API keys, text that cannot be used, dependencies that are down. */
describe('query app guards', () => {
  const embedder = new LocalEmbedder(32);
  const key = `k-${randomUUID()}`;
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let deps: QueryDeps;
  let qdrantUrl: string;

  const readerAt = (url: string, collection = uniqueName('guards')) => new QdrantReader({ url, collection, dimensions: embedder.dimensions });
  const depsWith = (store: VectorReader): QueryDeps => {
    const retrieval = loadConfig({}).retrieval;
    const search = new SearchService(embedder, store, new EmbeddingRepository(db.dataSource), retrieval);
    const context = new ContextService(search, new CatalogGraphCache(new CatalogRepository(db.dataSource)), retrieval.candidates);
    return { logger: createLogger({ level: 'silent' }), dataSource: db.dataSource, store, search, context };
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'test', migrate: true }));
    qdrant = new QdrantEmulator();
    qdrantUrl = (await qdrant.start(0)).url;
    const url = qdrantUrl;
    const store = new QdrantStore({ url, collection: uniqueName('guards'), dimensions: embedder.dimensions });
    await store.ensureCollection();
    deps = depsWith(readerAt(url, store.collection));
  });
  afterAll(async () => {
    await qdrant.stop();
    await db.drop();
  });

  it('answers 503 naming the missing key, and is not ready, when the served collection holds OpenAI vectors and no key is set', async () => {
    const keyless = loadConfig({ EMBEDDING_MODEL: 'text-embedding-3-small', EMBEDDING_DIMENSIONS: '32' }).embeddings;
    const logger = createLogger({ level: 'silent' });
    const collection = uniqueName('guards-openai');
    await new QdrantStore({ url: qdrantUrl, collection, dimensions: 32, model: 'text-embedding-3-small', provider: 'openai' }).ensureCollection();
    // This process is configured without a key: the local embedder. The served collection is OpenAI's.
    const store = new QdrantReader({ url: qdrantUrl, collection, dimensions: 32, model: 'hashing-v1', provider: 'local' });
    const configured = configuredIdentity(keyless);
    const spaces = new ServedSpace(store, (space) => createEmbedder(keyless, logger, { identity: questionIdentity(space, configured) }));
    const retrieval = loadConfig({}).retrieval;
    const search = new SearchService(spaces, store, new EmbeddingRepository(db.dataSource), retrieval);
    const context = new ContextService(search, new CatalogGraphCache(new CatalogRepository(db.dataSource)), retrieval.candidates);
    const app = createApp({ ...deps, store, search, context, embedding: { configured, spaces } });

    const res = await request(app).post('/v1/search').send({ catalogId: randomUUID(), query: 'orders' }).expect(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.error.message).toMatch(/openai\/text-embedding-3-small@32: set OPENAI_API_KEY/);
    const ready = await request(app).get('/readyz').expect(503);
    expect(ready.body).toMatchObject({ checks: { embedder: false }, embedder: { configured: 'local/hashing-v1@32' } });
    expect(ready.body.embedder.serving.error).toMatch(/OPENAI_API_KEY/);
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

  it('serves an OpenAPI 3.1 document that describes its real answers', async () => {
    const app = createApp({ ...deps, apiKeys: new ApiKeySet([key]) });
    const auth = (r: request.Test) => r.set('Authorization', `Bearer ${key}`);
    const doc = (await auth(request(app).get('/openapi.json')).expect(200)).body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    // Exactly the routes the app mounts: a route added without its description, or a description left behind, fails.
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    const mounted = mountedRoutes(app);
    expect(mounted).toContain('POST /v1/context');
    expect({ notDocumented: mounted.filter((r) => !documented.includes(r)), notMounted: documented.filter((r) => !mounted.includes(r)) }).toEqual({
      notDocumented: [],
      notMounted: [],
    });
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema(doc, 'doc');
    const check = (path: string, method: string, res: { status: number; body: unknown }) => {
      const validate = ajv.getSchema(`doc#/paths/${path.replace(/\//g, '~1')}/${method}/responses/${res.status}/content/application~1json/schema`);
      if (!validate) throw new Error(`${method} ${path} ${res.status} is not documented`);
      expect(validate(res.body) || ajv.errorsText(validate.errors)).toBe(true);
    };
    check('/v1/search', 'post', await auth(request(app).post('/v1/search')).send({ catalogId: randomUUID(), query: 'orders' }));
    check('/v1/search', 'post', await auth(request(app).post('/v1/search')).send({ catalogId: 'x', query: 'orders' }));
    check('/v1/search', 'post', await request(app).post('/v1/search').send({}));
    check('/openapi.json', 'get', await auth(request(app).get('/openapi.json')));
    check('/healthz', 'get', await request(app).get('/healthz'));
    check('/readyz', 'get', await request(app).get('/readyz'));
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
    const app = createApp(depsWith(readerAt(url)));
    const res = await request(app).post('/v1/search').send({ catalogId: randomUUID(), query: 'orders' }).expect(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toMatchObject({ error: { code: 'service_unavailable' } });
  });
});
