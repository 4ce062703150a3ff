import request, { type Response } from 'supertest';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { type Express } from 'express';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, createDataSource, IndexRunRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { ApiKeySet } from '@catalog-indexer/http';
import { CatalogImporter } from '@catalog-indexer/importer';
import { createLogger } from '@catalog-indexer/logger';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { randomUUID } from 'node:crypto';
import { createPgvectorEraTable, createTestDatabase, deleteRedisPrefix, legacyRows, mountedRoutes, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { createApp, type ApiDeps } from './app';

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };

/** Real answers of every route, checked against the OpenAPI document the api serves. */
describe('api OpenAPI document', () => {
  const KEY = 'openapi-test-key';
  const prefix = uniqueName('openapi');
  let db: TestDatabase<DataSource>;
  let redis: RedisClient;
  let jobs: JobProducer;
  let deps: ApiDeps;
  let app: Express;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  /** `METHOD path status` of every answer checked. */
  const checked = new Set<string>();

  /** Validates the answer against the document's schema for its route and status. */
  const conforms = (method: string, path: string, res: Response): Response => {
    const operation = doc.paths[path]?.[method];
    if (!operation) throw new Error(`${method} ${path} is not in the document`);
    const response = operation.responses[String(res.status)];
    if (!response) throw new Error(`${method} ${path} answered ${res.status}, which the document does not list: ${res.text.slice(0, 300)}`);
    const media = Object.keys(response.content ?? {})[0];
    if (media === 'application/json') {
      const pointer = `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${res.status}/content/application~1json/schema`;
      const validate = ajv.getSchema(`openapi${pointer}`)!;
      if (!validate(res.body)) throw new Error(`${method} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 500)}`);
    } else if (media) {
      expect(res.headers['content-type']).toContain(media);
    }
    checked.add(`${method} ${path} ${res.status}`);
    return res;
  };
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${KEY}`);

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    redis = createRedisConnection(loadConfig().redis.url, 'producer');
    jobs = new JobProducer(redis, prefix);
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    deps = {
      logger: createLogger({ level: 'silent' }),
      dataSource: db.dataSource,
      redis,
      catalogs: new CatalogRepository(db.dataSource),
      runs: new IndexRunRepository(db.dataSource),
      jobs,
      maxUploadBytes: 5_000_000,
      apiKeys: new ApiKeySet([KEY]),
      importer: new CatalogImporter({ connectMs: 2_000, statementMs: 5_000 }),
      pgvector: { space: { provider: 'openai', model: 'text-embedding-3-large', dimensions: 8 }, databaseUrl: db.url, queuePrefix: prefix, vaultSecret: 'openapi-spec-vault-secret' },
    };
    await createPgvectorEraTable(db.url, legacyRows({ rows: 3, dims: 8, catalogs: [randomUUID()] }), { dims: 8, table: 'dq_embeddings_pgvector' });
    app = createApp(deps);
    doc = (await auth(request(app).get('/openapi.json')).expect(200)).body as Doc;
    ajv.addSchema(doc, 'openapi');
  });
  afterAll(async () => {
    await jobs.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('is an OpenAPI 3.1 document of exactly the routes the app mounts, with their security', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    // Bull Board is mounted as a whole (its own pages and API); the document names its entry page.
    const mounted = [...mountedRoutes(app, ['/admin/queues']), 'GET /admin/queues'];
    expect({ notDocumented: mounted.filter((r) => !documented.includes(r)), notMounted: documented.filter((r) => !mounted.includes(r)) }).toEqual({
      notDocumented: [],
      notMounted: [],
    });
    expect(doc.paths['/healthz']!.get).toMatchObject({ security: [] });
    expect(doc.paths['/v1/catalogs']!.get!.responses['401']).toBeDefined();
  });

  it('describes the real answers of every route', async () => {
    const created = conforms('post', '/v1/catalogs', await auth(request(app).post('/v1/catalogs')).send(shopCatalog));
    const id = (created.body as { id: string }).id;
    conforms('get', '/v1/catalogs', await auth(request(app).get('/v1/catalogs?limit=5')));
    conforms('get', '/v1/catalogs/{id}', await auth(request(app).get(`/v1/catalogs/${id}`)));
    conforms('put', '/v1/catalogs/{id}', await auth(request(app).put(`/v1/catalogs/${id}`)).send(shopCatalog));
    conforms('put', '/v1/catalogs/{id}', await auth(request(app).put(`/v1/catalogs/${id}?reindex=false`)).send(shopCatalog));
    conforms('patch', '/v1/catalogs/{id}/items', await auth(request(app).patch(`/v1/catalogs/${id}/items`)).send({ reject: ['sales.orders'] }));
    const reindex = conforms('post', '/v1/catalogs/{id}/reindex', await auth(request(app).post(`/v1/catalogs/${id}/reindex`)).send({ force: true }));
    conforms('post', '/v1/catalogs/{id}/cleanup', await auth(request(app).post(`/v1/catalogs/${id}/cleanup`)));
    const run = await deps.runs.start(id, 'reindex', 'reindex-x', 1);
    await deps.runs.complete(run.id, { embedded: 1, skipped: 2, deleted: 0, tokens: 9 });
    conforms('get', '/v1/catalogs/{id}/runs', await auth(request(app).get(`/v1/catalogs/${id}/runs`)));
    conforms('get', '/v1/jobs/{id}', await auth(request(app).get(`/v1/jobs/${(reindex.body as { jobId: string }).jobId}`)));
    conforms('get', '/v1/catalogs/{id}/index', await auth(request(app).get(`/v1/catalogs/${id}/index`)));
    conforms('post', '/v1/catalogs/{id}/reconcile', await auth(request(app).post(`/v1/catalogs/${id}/reconcile`)));
    const imported = conforms('post', '/v1/catalogs/import', await auth(request(app).post('/v1/catalogs/import')).send({ connectionString: db.url, schemas: ['public'] }));
    conforms('post', '/v1/catalogs/import', await auth(request(app).post('/v1/catalogs/import')).send({ connectionString: db.url, schemas: ['public'], catalogId: (imported.body as { id: string }).id }));
    conforms('delete', '/v1/catalogs/{id}', await auth(request(app).delete(`/v1/catalogs/${id}`)));
    conforms('post', '/v1/migrations/pgvector', await auth(request(app).post('/v1/migrations/pgvector')).send({ dryRun: true }));
    conforms('post', '/v1/migrations/pgvector', await auth(request(app).post('/v1/migrations/pgvector')).send({ dropLegacy: true }));
    conforms('post', '/v1/migrations/pgvector/rollback', await auth(request(app).post('/v1/migrations/pgvector/rollback')).send({}));
    conforms('get', '/v1/catalog.schema.json', await auth(request(app).get('/v1/catalog.schema.json')));
    conforms('get', '/openapi.json', await auth(request(app).get('/openapi.json')));
    conforms('get', '/metrics', await auth(request(app).get('/metrics')));
    conforms('get', '/admin/queues', await request(app).get('/admin/queues').auth('admin', KEY));
    conforms('get', '/healthz', await request(app).get('/healthz'));
    conforms('get', '/readyz', await request(app).get('/readyz'));

    // Errors: the shared error shape, on the statuses the document lists.
    conforms('get', '/v1/catalogs/{id}', await auth(request(app).get(`/v1/catalogs/${id}`)));
    conforms('get', '/v1/catalogs/{id}', await auth(request(app).get('/v1/catalogs/not-a-uuid')));
    conforms('get', '/v1/catalogs', await request(app).get('/v1/catalogs'));
    conforms('post', '/v1/catalogs', await auth(request(app).post('/v1/catalogs')).send({ name: '' }));
    conforms('post', '/v1/catalogs/import', await auth(request(app).post('/v1/catalogs/import')).send({ connectionString: db.url, schemas: ['nope'] }));
    const closed = createDataSource({ url: db.url, poolSize: 1, applicationName: 'closed' });
    await closed.initialize();
    await closed.destroy();
    const broken = createApp({ ...deps, dataSource: closed, catalogs: new CatalogRepository(closed) });
    conforms('get', '/v1/catalogs', await auth(request(broken).get('/v1/catalogs')));
    conforms('get', '/readyz', await request(broken).get('/readyz'));

    // Every success answer the document lists was met and checked.
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => Object.keys(op.responses).filter((s) => s < '400' || (path === '/readyz' && s === '503')).map((s) => `${method} ${path} ${s}`)),
    );
    expect(documented.filter((d) => !checked.has(d))).toEqual([]);
    expect([...checked]).toEqual(expect.arrayContaining(['get /v1/catalogs/{id} 404', 'get /v1/catalogs/{id} 400', 'get /v1/catalogs 401', 'get /v1/catalogs 503', 'post /v1/catalogs/import 422']));
  });

  it('serves the catalog format as a JSON Schema that accepts the fixture and refuses a broken catalog', async () => {
    const res = await auth(request(app).get('/v1/catalog.schema.json')).expect(200);
    expect(res.headers['content-type']).toContain('application/schema+json');
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(res.text) as object);
    expect(validate(shopCatalog)).toBe(true);
    expect(validate({ ...shopCatalog, schemas: [{ name: 'x', tables: [{ name: 't', colums: [] }] }] })).toBe(false);
  });
});
