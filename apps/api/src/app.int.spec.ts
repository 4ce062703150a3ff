import { randomUUID } from 'node:crypto';
import { type Express } from 'express';
import request, { type Response } from 'supertest';
import { flattenItems, type Catalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, createDataSource, IndexRunRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { ApiKeySet } from '@catalog-indexer/http';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, uniqueQueuePrefix, type TestDatabase } from '@catalog-indexer/testing';
import { createApp, type ApiDeps } from './app';

const shopItems = flattenItems(shopCatalog);

/** A copy of the fixture that a test may change. */
const shop = (): Catalog => structuredClone<Catalog>(shopCatalog);

/** Error bodies say what went wrong, never where in the code: no stack frames, no file paths. */
function expectNoStack(res: Response): void {
  expect(res.text).not.toMatch(/\bat .+\(.*:\d+:\d+\)|\.ts:\d+|node_modules|"stack"/);
}

describe('api app', () => {
  let db: TestDatabase<DataSource>;
  let redis: RedisClient;
  let jobs: JobProducer;
  let prefix: string;
  let deps: ApiDeps;
  let app: Express;

  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    (await db.dataSource.query<{ n: number }[]>(sql, params))[0]!.n;
  const catalogCount = () => count('SELECT count(*)::int AS n FROM catalogs');
  const itemCount = (catalogId?: string) =>
    catalogId
      ? count('SELECT count(*)::int AS n FROM catalog_items WHERE catalog_id = $1', [catalogId])
      : count('SELECT count(*)::int AS n FROM catalog_items');
  const rejectedKeys = async (catalogId: string) =>
    (
      await db.dataSource.query<{ key: string }[]>(
        'SELECT key FROM catalog_items WHERE catalog_id = $1 AND rejected ORDER BY key',
        [catalogId],
      )
    ).map((r) => r.key);

  /** Uploads the catalog through the api and returns its id. */
  const upload = async (catalog: Catalog = shop()): Promise<string> => {
    const res = await request(app).post('/v1/catalogs').send(catalog).expect(201);
    return (res.body as { id: string }).id;
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    prefix = uniqueQueuePrefix('api');
    redis = createRedisConnection(loadConfig().redis, 'producer');
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
    };
    app = createApp(deps);
  });
  afterAll(async () => {
    await jobs.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  describe('POST /v1/catalogs', () => {
    it('stores the catalog with all its items and answers 201 with its id and Location', async () => {
      const res = await request(app).post('/v1/catalogs').send(shop()).expect(201);
      const body = res.body as { id: string; name: string; version: number; items: number };
      expect(body).toMatchObject({ name: 'shop', version: 1, items: shopItems.length });
      expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.location).toBe(`/v1/catalogs/${body.id}`);
      expect(await itemCount(body.id)).toBe(shopItems.length);
      const keys = (
        await db.dataSource.query<{ key: string }[]>('SELECT key FROM catalog_items WHERE catalog_id = $1', [body.id])
      ).map((r) => r.key);
      expect(keys.sort()).toEqual(shopItems.map((i) => i.key).sort());
    });

    it('accepts names as databases spell them, merges a foreign key declared twice and says so', async () => {
      const odd = shop();
      const orders = odd.schemas[0]!.tables[1]!;
      orders.columns.push({ name: 'Official_ratings_(millions)', type: 'numeric' }, { name: 'a.b, "c"', type: 'text' });
      orders.foreignKeys!.push(structuredClone(orders.foreignKeys![0]!));
      const res = await request(app).post('/v1/catalogs').send(odd).expect(201);
      const body = res.body as { id: string; notices: { path: string; message: string }[] };
      expect(body.notices).toEqual([
        { path: `schemas[0].tables[1].foreignKeys[${orders.foreignKeys!.length - 1}]`, message: 'repeats the foreign key at schemas[0].tables[1].foreignKeys[0]; merged into it' },
      ]);
      await request(app)
        .patch(`/v1/catalogs/${body.id}/items`)
        .send({ reject: ['sales.orders."Official_ratings_(millions)"', 'sales.orders."a.b, ""c"""'] })
        .expect(200);
      expect(await rejectedKeys(body.id)).toEqual(['sales.orders."Official_ratings_(millions)"', 'sales.orders."a.b, ""c"""']);
    });

    it('rejects an invalid catalog with 400 invalid_catalog, lists every problem with its path, and stores nothing', async () => {
      const [catalogsBefore, itemsBefore] = [await catalogCount(), await itemCount()];
      const bad = shop() as Catalog & Record<string, unknown>;
      bad.schemas[0]!.tables[0]!.columns[0]!.name = '';
      (bad.schemas[0]!.tables[1] as unknown as Record<string, unknown>).colums = [];

      const res = await request(app).post('/v1/catalogs').send(bad).expect(400);

      const error = (res.body as { error: { code: string; message: string; details: { path: string; message: string }[] } }).error;
      expect(error.code).toBe('invalid_catalog');
      const paths = error.details.map((d) => d.path);
      expect(paths).toEqual(
        expect.arrayContaining(['schemas[0].tables[0].columns[0].name', 'schemas[0].tables[1].colums']),
      );
      expect(error.message).toContain('schemas[0].tables[0].columns[0].name');
      expectNoStack(res);
      expect(await catalogCount()).toBe(catalogsBefore);
      expect(await itemCount()).toBe(itemsBefore);
    });

    it('rejects a body that is not a JSON object with 400 invalid_catalog', async () => {
      const before = await catalogCount();
      const res = await request(app).post('/v1/catalogs').send([1, 2]).expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_catalog' } });
      expect(await catalogCount()).toBe(before);
    });

    it('answers malformed JSON with 400 invalid_json', async () => {
      const before = await catalogCount();
      const res = await request(app)
        .post('/v1/catalogs')
        .set('Content-Type', 'application/json')
        .send('{"name": "shop", ')
        .expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_json' } });
      expectNoStack(res);
      expect(await catalogCount()).toBe(before);
    });

    it('answers a body that is not JSON with 415 unsupported_media_type', async () => {
      const res = await request(app).post('/v1/catalogs').set('Content-Type', 'text/plain').send('name: shop').expect(415);
      expect(res.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
    });

    it('answers JSON in a charset or encoding the server does not read with 415, not 500', async () => {
      const charset = await request(app)
        .post('/v1/catalogs')
        .set('Content-Type', 'application/json; charset=latin9')
        .send(JSON.stringify(shop()))
        .expect(415);
      expect(charset.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
      const encoding = await request(app)
        .post('/v1/catalogs')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'compress')
        .send(JSON.stringify(shop()))
        .expect(415);
      expect(encoding.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
    });

    it('answers a body larger than maxUploadBytes with 413 payload_too_large and stores nothing', async () => {
      const small = createApp({ ...deps, maxUploadBytes: 1024 });
      const before = await catalogCount();
      const res = await request(small).post('/v1/catalogs').send(shop()).expect(413);
      expect(res.body).toMatchObject({ error: { code: 'payload_too_large' } });
      expect(await catalogCount()).toBe(before);
    });
  });

  describe('text that cannot be stored', () => {
    it.each([
      ['a NUL character in a table description', (c: Catalog) => { c.schemas[0]!.tables[0]!.description = 'orders\u0000'; }, 'schemas[0].tables[0].description'],
      ['a lone surrogate in a document', (c: Catalog) => { c.documents![0]!.text = 'refunds \ud83d'; }, 'documents[0].text'],
    ])('refuses %s with 400 invalid_text naming the field, and stores nothing', async (_what, spoil, path) => {
      const before = [await catalogCount(), await itemCount()];
      const bad = shop();
      spoil(bad);
      const res = await request(app).post('/v1/catalogs').set('content-type', 'application/json').send(JSON.stringify(bad)).expect(400);
      const error = (res.body as { error: { code: string; message: string; details: { path: string }[] } }).error;
      expect(error.code).toBe('invalid_text');
      expect(error.details.map((d) => d.path)).toEqual([path]);
      expect(error.message).toContain(path);
      expect([await catalogCount(), await itemCount()]).toEqual(before);
    });

    it('refuses a NUL character in an item key of a rejection with 400 and changes nothing', async () => {
      const id = await upload();
      const res = await request(app).patch(`/v1/catalogs/${id}/items`).send({ reject: ['sales.orders\u0000'] }).expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_text', details: [{ path: 'reject[0]' }] } });
      expect(await rejectedKeys(id)).toEqual([]);
    });
  });

  describe('GET /v1/catalogs', () => {
    it('lists stored catalogs with their item counts', async () => {
      const id = await upload();
      const res = await request(app).get('/v1/catalogs').expect(200);
      const body = res.body as { catalogs: { id: string; name: string; itemCount: number }[]; limit: number; offset: number };
      expect(body).toMatchObject({ limit: 100, offset: 0 });
      expect(body.catalogs.find((c) => c.id === id)).toMatchObject({ name: 'shop', itemCount: shopItems.length });
    });

    it('answers a limit out of range with 400 invalid_request', async () => {
      const res = await request(app).get('/v1/catalogs?limit=0').expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
    });

    it('returns one catalog with its document', async () => {
      const id = await upload();
      const res = await request(app).get(`/v1/catalogs/${id}`).expect(200);
      expect(res.body).toMatchObject({ id, name: 'shop', version: 1, document: { name: 'shop' } });
      const document = (res.body as { document: Catalog }).document;
      expect(document.schemas.map((s) => s.name)).toEqual(shopCatalog.schemas.map((s) => s.name));
    });

    it('answers an id that is not a UUID with 400 invalid_id', async () => {
      const res = await request(app).get('/v1/catalogs/not-a-uuid').expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_id' } });
    });

    it('answers an unknown id with 404 not_found', async () => {
      const res = await request(app).get(`/v1/catalogs/${randomUUID()}`).expect(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found' } });
    });

    it('answers a path that cannot be decoded with 400, not 500', async () => {
      const res = await request(app).get('/v1/catalogs/%E0%A4%A').expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
      expectNoStack(res);
    });
  });

  describe('PUT /v1/catalogs/:id', () => {
    it('replaces the catalog, bumps its version and keeps the rejections of keys that still exist', async () => {
      const id = await upload();
      await request(app).patch(`/v1/catalogs/${id}/items`).send({ reject: ['sales.orders', 'sales.customers.email'] }).expect(200);
      const edited = shop();
      const customers = edited.schemas[0]!.tables.find((t) => t.name === 'customers')!;
      customers.columns = customers.columns.filter((c) => c.name !== 'email');
      edited.description = 'The shop, edited';

      const res = await request(app).put(`/v1/catalogs/${id}?reindex=false`).send(edited).expect(200);

      expect(res.body).toMatchObject({ id, version: 2, description: 'The shop, edited', items: shopItems.length - 1, jobId: null });
      expect(await itemCount(id)).toBe(shopItems.length - 1);
      expect(await rejectedKeys(id)).toEqual(['sales.orders']);
      const got = await request(app).get(`/v1/catalogs/${id}`).expect(200);
      expect(got.body).toMatchObject({ version: 2, document: { description: 'The shop, edited' } });
    });

    it('enqueues an incremental reindex of the replaced catalog, coalesced with a waiting one, and answers its job id', async () => {
      const id = await upload();
      const waitingFor = async () =>
        (await jobs.queue.getWaiting()).filter((j) => (j.data as { catalogId: string }).catalogId === id);
      const first = await request(app).put(`/v1/catalogs/${id}`).send(shop()).expect(200);
      const { jobId } = first.body as { jobId: string };
      expect(first.body).toMatchObject({ version: 2, deduplicated: false, statusUrl: `/v1/jobs/${jobId}` });
      expect((await waitingFor()).map((j): unknown[] => [j.id, j.name, j.data as unknown])).toEqual([[jobId, 'reindex', { catalogId: id, force: false }]]);

      const second = await request(app).put(`/v1/catalogs/${id}`).send(shop()).expect(200);
      expect(second.body).toMatchObject({ version: 3, jobId, deduplicated: true });
      expect(await waitingFor()).toHaveLength(1);
    });

    it('stores a replacement without a reindex when asked with ?reindex=false, and refuses other values', async () => {
      const id = await upload();
      await request(app).put(`/v1/catalogs/${id}?reindex=false`).send(shop()).expect(200);
      const bad = await request(app).put(`/v1/catalogs/${id}?reindex=no`).send(shop()).expect(400);
      expect(bad.body).toMatchObject({ error: { code: 'invalid_request' } });
      const waiting = (await jobs.queue.getWaiting()).filter((j) => (j.data as { catalogId: string }).catalogId === id);
      expect(waiting).toEqual([]);
      expect(await request(app).get(`/v1/catalogs/${id}`)).toHaveProperty('body.version', 2);
    });

    it('answers an invalid replacement with 400 and leaves the stored catalog as it was', async () => {
      const id = await upload();
      const bad = shop();
      bad.schemas[0]!.name = '';
      const res = await request(app).put(`/v1/catalogs/${id}`).send(bad).expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_catalog' } });
      expect(await request(app).get(`/v1/catalogs/${id}`).expect(200)).toHaveProperty('body.version', 1);
      expect(await itemCount(id)).toBe(shopItems.length);
    });

    it('answers an unknown id with 404 not_found', async () => {
      const res = await request(app).put(`/v1/catalogs/${randomUUID()}`).send(shop()).expect(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found' } });
    });
  });

  describe('PATCH /v1/catalogs/:id/items', () => {
    it('rejects items and restores them', async () => {
      const id = await upload();
      const rejected = await request(app)
        .patch(`/v1/catalogs/${id}/items`)
        .send({ reject: ['sales.orders.tax_amount', 'sales.refunds'] })
        .expect(200);
      expect(rejected.body).toMatchObject({ id, rejected: ['sales.orders.tax_amount', 'sales.refunds'], restored: [] });
      expect(await rejectedKeys(id)).toEqual(['sales.orders.tax_amount', 'sales.refunds']);

      await request(app).patch(`/v1/catalogs/${id}/items`).send({ restore: ['sales.refunds'] }).expect(200);
      expect(await rejectedKeys(id)).toEqual(['sales.orders.tax_amount']);
    });

    it('answers an unknown key with 400 unknown_keys and changes nothing, not even the known keys', async () => {
      const id = await upload();
      await request(app).patch(`/v1/catalogs/${id}/items`).send({ reject: ['sales.refunds'] }).expect(200);

      const res = await request(app)
        .patch(`/v1/catalogs/${id}/items`)
        .send({ reject: ['sales.orders', 'sales.no_such_table'], restore: ['sales.refunds'] })
        .expect(400);

      expect(res.body).toMatchObject({
        error: { code: 'unknown_keys', details: { unknownKeys: ['sales.no_such_table'] } },
      });
      expect(await rejectedKeys(id)).toEqual(['sales.refunds']);
    });

    it('answers a body without keys with 400 invalid_request', async () => {
      const id = await upload();
      const res = await request(app).patch(`/v1/catalogs/${id}/items`).send({}).expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
    });
  });

  describe('jobs', () => {
    it('enqueues a reindex job that waits in Redis with the catalog id only', async () => {
      const id = await upload();
      const res = await request(app).post(`/v1/catalogs/${id}/reindex`).expect(202);
      const { jobId } = res.body as { jobId: string };
      expect(res.body).toMatchObject({ catalogId: id, deduplicated: false, statusUrl: `/v1/jobs/${jobId}` });

      const job = await request(app).get(`/v1/jobs/${jobId}`).expect(200);
      expect(job.body).toMatchObject({ id: jobId, name: 'reindex', state: 'waiting', failedReason: null });
      expect((job.body as { data: unknown }).data).toEqual({ catalogId: id, force: false });
      expect(await jobs.queue.getJobState(jobId)).toBe('waiting');
    });

    it('passes force to the reindex job when asked', async () => {
      const id = await upload();
      const res = await request(app).post(`/v1/catalogs/${id}/reindex`).send({ force: true }).expect(202);
      const job = await request(app).get(`/v1/jobs/${(res.body as { jobId: string }).jobId}`).expect(200);
      expect((job.body as { data: unknown }).data).toEqual({ catalogId: id, force: true });
    });

    it('coalesces a second reindex request for the same catalog into the waiting job', async () => {
      const id = await upload();
      const first = await request(app).post(`/v1/catalogs/${id}/reindex`).expect(202);
      const second = await request(app).post(`/v1/catalogs/${id}/reindex`).expect(202);
      expect(second.body).toMatchObject({ jobId: (first.body as { jobId: string }).jobId, deduplicated: true });
      const waiting = (await jobs.queue.getWaiting()).filter((j) => (j.data as { catalogId: string }).catalogId === id);
      expect(waiting).toHaveLength(1);
    });

    it('gives every one of many concurrent requests the id of the one waiting job that carries it', async () => {
      const id = await upload();
      const answers = await Promise.all(Array.from({ length: 40 }, () => request(app).post(`/v1/catalogs/${id}/reindex`).send({})));
      const ids = new Set(answers.map((a) => (a.body as { jobId: string }).jobId));
      expect(answers.map((a) => a.status)).toEqual(Array(40).fill(202));
      expect(ids.size).toBe(1);
      const waiting = (await jobs.queue.getWaiting()).filter((j) => (j.data as { catalogId: string }).catalogId === id);
      expect(waiting.map((j) => j.id)).toEqual([...ids]);
      const unknown = await Promise.all(Array.from({ length: 5 }, () => request(app).post(`/v1/catalogs/${randomUUID()}/reindex`)));
      expect(unknown.map((a) => a.status)).toEqual(Array(5).fill(404));
    });

    it('answers a reindex body with an unknown field with 400 invalid_request and enqueues nothing', async () => {
      const id = await upload();
      const res = await request(app).post(`/v1/catalogs/${id}/reindex`).send({ forse: true }).expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
      const waiting = (await jobs.queue.getWaiting()).filter((j) => (j.data as { catalogId: string }).catalogId === id);
      expect(waiting).toEqual([]);
    });

    it('answers a reindex of an unknown catalog with 404 not_found', async () => {
      const res = await request(app).post(`/v1/catalogs/${randomUUID()}/reindex`).expect(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found' } });
    });

    it('enqueues a cleanup job', async () => {
      const id = await upload();
      const res = await request(app).post(`/v1/catalogs/${id}/cleanup`).expect(202);
      const { jobId } = res.body as { jobId: string };
      const job = await request(app).get(`/v1/jobs/${jobId}`).expect(200);
      expect(job.body).toMatchObject({ name: 'cleanup', state: 'waiting', data: { catalogId: id, catalogDeleted: false } });
    });

    it('deletes a catalog, its items, and enqueues the cleanup of its index', async () => {
      const id = await upload();
      const res = await request(app).delete(`/v1/catalogs/${id}`).expect(202);
      const { jobId } = res.body as { jobId: string };
      expect(res.body).toMatchObject({ id, deleted: true });

      const job = await request(app).get(`/v1/jobs/${jobId}`).expect(200);
      expect(job.body).toMatchObject({ name: 'cleanup', state: 'waiting', data: { catalogId: id, catalogDeleted: true } });
      await request(app).get(`/v1/catalogs/${id}`).expect(404);
      expect(await itemCount(id)).toBe(0);
      await request(app).delete(`/v1/catalogs/${id}`).expect(404);
    });

    it('answers an unknown job with 404 not_found', async () => {
      const res = await request(app).get('/v1/jobs/reindex-unknown').expect(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found' } });
    });

    it('answers a job id with forbidden characters with 400 invalid_id', async () => {
      const res = await request(app).get('/v1/jobs/a:b').expect(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_id' } });
    });
  });

  describe('GET /v1/catalogs/:id/runs', () => {
    it('answers an empty list for a catalog never indexed', async () => {
      const id = await upload();
      const res = await request(app).get(`/v1/catalogs/${id}/runs`).expect(200);
      expect(res.body).toEqual({ runs: [] });
    });

    it('lists the runs of a catalog in the documented shape', async () => {
      const id = await upload();
      const run = await deps.runs.start(id, 'reindex', 'reindex-1', 1);
      await deps.runs.complete(run.id, { embedded: 3, skipped: 2, deleted: 1, tokens: 40 });
      const res = await request(app).get(`/v1/catalogs/${id}/runs`).expect(200);
      const runs = (res.body as { runs: Record<string, unknown>[] }).runs;
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        id: run.id,
        mode: 'reindex',
        status: 'completed',
        embedded: 3,
        skipped: 2,
        deleted: 1,
        tokens: 40,
        error: null,
      });
      expect(Object.keys(runs[0]!)).toEqual(
        expect.arrayContaining(['id', 'mode', 'status', 'embedded', 'skipped', 'deleted', 'tokens', 'startedAt', 'finishedAt', 'error']),
      );
      expect(typeof runs[0]!.finishedAt).toBe('string');
    });

    it('answers an unknown catalog with 404 not_found', async () => {
      await request(app).get(`/v1/catalogs/${randomUUID()}/runs`).expect(404);
    });
  });

  describe('API keys', () => {
    const key = 'k-' + randomUUID();
    let locked: Express;
    beforeAll(() => {
      locked = createApp({ ...deps, apiKeys: new ApiKeySet(['other-key', key]) });
    });

    it('answers 401 with WWW-Authenticate without a key, 401 with a wrong key and 200 with a right key', async () => {
      const none = await request(locked).get('/v1/catalogs').expect(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="catalog-indexer"');
      expect(none.body).toMatchObject({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer') as unknown } });
      const wrong = await request(locked).get('/v1/catalogs').set('Authorization', `Bearer ${key}x`).expect(401);
      expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
      await request(locked).get('/v1/catalogs').set('Authorization', `Bearer ${key}`).expect(200);
    });

    it('stores nothing for a request without a key', async () => {
      const before = await catalogCount();
      await request(locked).post('/v1/catalogs').send(shop()).expect(401);
      expect(await catalogCount()).toBe(before);
    });

    it('leaves /healthz and /readyz open', async () => {
      await request(locked).get('/healthz').expect(200);
      await request(locked).get('/readyz').expect(200);
    });

    it('asks for Basic auth on Bull Board and accepts the key as password with any user name', async () => {
      const none = await request(locked).get('/admin/queues').expect(401);
      expect(none.headers['www-authenticate']).toBe('Basic realm="Bull Board", charset="UTF-8"');
      await request(locked).get('/admin/queues/api/queues').auth('admin', 'wrong').expect(401);
      const ok = await request(locked).get('/admin/queues/api/queues').auth('anyone', key).expect(200);
      expect(JSON.stringify(ok.body)).toContain('catalog-jobs');
    });
  });

  describe('operations', () => {
    it('answers /healthz with 200', async () => {
      const res = await request(app).get('/healthz').expect(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('answers /readyz with 200 when Postgres and Redis answer', async () => {
      const res = await request(app).get('/readyz').expect(200);
      expect(res.body).toMatchObject({ status: 'ready', checks: { postgres: true, redis: true } });
    });

    it('serves Bull Board at /admin/queues', async () => {
      const res = await request(app).get('/admin/queues').expect(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      const queues = await request(app).get('/admin/queues/api/queues').expect(200);
      expect(JSON.stringify(queues.body)).toContain('catalog-jobs');
    });

    it('serves Prometheus metrics: request latencies by route pattern and status, and queue depths by state', async () => {
      const id = await upload();
      await request(app).get(`/v1/catalogs/${id}`).expect(200);
      await request(app).post(`/v1/catalogs/${id}/reindex`).expect(202);
      const res = await request(app).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/cidx_http_request_duration_seconds_count\{service="api",method="GET",route="\/v1\/catalogs\/:id",status="200"\} [1-9]/);
      expect(res.text).toMatch(/cidx_http_request_duration_seconds_count\{service="api",method="POST",route="\/v1\/catalogs\/:id\/reindex",status="202"\} [1-9]/);
      const waiting = (await jobs.queue.getJobCounts('waiting')).waiting;
      expect(res.text).toContain(`cidx_queue_jobs{queue="catalog-jobs",state="waiting"} ${waiting}`);
      expect(res.text).not.toContain(id);
    });

    it('answers an unknown route with 404 in the error shape', async () => {
      const res = await request(app).get('/v1/nothing-here').expect(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: expect.stringContaining('/v1/nothing-here') as unknown } });
    });

    it('answers while Postgres is down with 503 and Retry-After, without a stack trace, and /readyz with 503', async () => {
      const closed = createDataSource({ url: db.url, poolSize: 1, applicationName: 'test-closed' });
      await closed.initialize();
      await closed.destroy();
      const broken = createApp({ ...deps, dataSource: closed, catalogs: new CatalogRepository(closed) });

      const res = await request(broken).get('/v1/catalogs').expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toMatchObject({ error: { code: 'service_unavailable', message: expect.stringMatching(/retry/) as unknown } });
      expectNoStack(res);

      const ready = await request(broken).get('/readyz').expect(503);
      expect(ready.body).toMatchObject({ status: 'not ready', checks: { postgres: false, redis: true } });
    });

    it('answers while Redis is down with 503 and Retry-After, and enqueues nothing', async () => {
      const id = await upload();
      const deadRedis = createRedisConnection('redis://127.0.0.1:1', 'producer');
      deadRedis.on('error', () => undefined);
      const deadJobs = new JobProducer(deadRedis, prefix);
      deadJobs.queue.on('error', () => undefined);
      try {
        const broken = createApp({ ...deps, redis: deadRedis, jobs: deadJobs });
        const res = await request(broken).post(`/v1/catalogs/${id}/reindex`).expect(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.body).toMatchObject({ error: { code: 'service_unavailable' } });
        await request(broken).get('/v1/jobs/reindex-x').expect(503);
      } finally {
        deadRedis.disconnect();
        await deadJobs.close().catch(() => undefined);
      }
      const waiting = (await jobs.queue.getWaiting()).filter((j) => (j.data as { catalogId: string }).catalogId === id);
      expect(waiting).toEqual([]);
    });
  });
});
