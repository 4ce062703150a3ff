import { type Express } from 'express';
import request from 'supertest';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import {
  CatalogRepository,
  EmbeddingRepository,
  IndexRunRepository,
  PointDeletionRepository,
  openDataSource,
  type DataSource,
} from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, uniqueQueuePrefix, type TestDatabase } from '@catalog-indexer/testing';
import { createApp } from './app';

describe('GET /v1/catalogs/:id/index and POST /v1/catalogs/:id/reconcile', () => {
  let db: TestDatabase<DataSource>;
  let redis: RedisClient;
  let jobs: JobProducer;
  let prefix: string;
  let app: Express;
  let points: number | null;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    prefix = uniqueQueuePrefix('index');
    redis = createRedisConnection(loadConfig().redis, 'producer');
    jobs = new JobProducer(redis, prefix);
    app = createApp({
      logger: createLogger({ level: 'silent' }),
      dataSource: db.dataSource,
      redis,
      catalogs: new CatalogRepository(db.dataSource),
      runs: new IndexRunRepository(db.dataSource),
      jobs,
      maxUploadBytes: 5_000_000,
      countPoints: () => Promise.resolve(points),
    });
  });
  afterAll(async () => {
    await jobs.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  const upload = async (): Promise<string> =>
    ((await request(app).post('/v1/catalogs').send(shopCatalog).expect(201)).body as { id: string }).id;
  const row = (catalogId: string, n: number) => ({
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    catalogId,
    kind: 'table',
    chunkKey: `k${n}`,
    itemKey: `i${n}`,
    content: 'c',
    metadata: {},
    contentHash: 'h',
    model: 'm',
    dimensions: 4,
    indexRunId: null,
  });

  it('reports rows by status, points, the outbox, the last reconcile and the last run', async () => {
    const id = await upload();
    const embeddings = new EmbeddingRepository(db.dataSource);
    await embeddings.insertPending([row(id, 1), row(id, 2), row(id, 3)]);
    await embeddings.activate(id, [row(id, 1).id, row(id, 2).id], []);
    const runs = new IndexRunRepository(db.dataSource);
    const reconcile = await runs.start(id, 'reconcile', null, 1);
    await runs.complete(reconcile.id, { deleted: 2 }, { orphanPoints: 2, missingPoints: 0 });
    const reindex = await runs.start(id, 'reindex', 'reindex-1', 1);
    await runs.complete(reindex.id, { embedded: 3, tokens: 30 });
    await new PointDeletionRepository(db.dataSource).record(id, [row(id, 9).id]);

    points = 3;
    const res = await request(app).get(`/v1/catalogs/${id}/index`).expect(200);
    expect(res.body).toMatchObject({
      catalogId: id,
      version: 1,
      rows: { active: 2, pending: 1 },
      points: 3,
      pendingPointDeletes: 1,
      inStep: false,
      drift: { found: { orphanPoints: 2, missingPoints: 0 }, repaired: true },
      lastRun: { id: reindex.id, mode: 'reindex', status: 'completed', embedded: 3, tokens: 30 },
    });

    points = null;
    expect((await request(app).get(`/v1/catalogs/${id}/index`).expect(200)).body).toMatchObject({ points: null, inStep: null });
  });

  it('says the index is in step when every row has its point and no delete is owed', async () => {
    const id = await upload();
    const embeddings = new EmbeddingRepository(db.dataSource);
    await embeddings.insertPending([row(id, 11)].map((r) => ({ ...r, id: r.id.replace(/^0/, '1') })));
    points = 1;
    expect((await request(app).get(`/v1/catalogs/${id}/index`).expect(200)).body).toMatchObject({ rows: { active: 0, pending: 1 }, inStep: true, drift: null, lastRun: null });
  });

  it('enqueues a reconcile of the catalog, coalescing repeated requests', async () => {
    const id = await upload();
    const first = await request(app).post(`/v1/catalogs/${id}/reconcile`).expect(202);
    const second = await request(app).post(`/v1/catalogs/${id}/reconcile`).expect(202);
    expect(second.body).toMatchObject({ jobId: (first.body as { jobId: string }).jobId, deduplicated: true });
    expect(await jobs.getJob((first.body as { jobId: string }).jobId)).toMatchObject({ name: 'reconcile', data: { catalogId: id } });
  });

  it('enqueues a reconcile of a deleted catalog whose rows, runs or points are left, so its index goes at once', async () => {
    const embeddings = new EmbeddingRepository(db.dataSource);
    const runs = new IndexRunRepository(db.dataSource);
    const withRows = await upload();
    await embeddings.insertPending([row(withRows, 21)].map((r) => ({ ...r, id: r.id.replace(/^0/, '2') })));
    const withRun = await upload();
    await runs.start(withRun, 'reindex', 'reindex-deleted', 1);
    const withPoints = await upload();
    for (const id of [withRows, withRun, withPoints]) await request(app).delete(`/v1/catalogs/${id}`).expect(202);

    points = 0;
    for (const id of [withRows, withRun]) {
      const res = await request(app).post(`/v1/catalogs/${id}/reconcile`).expect(202);
      expect(res.body).toMatchObject({ catalogId: id, catalogDeleted: true });
      expect(await jobs.getJob((res.body as { jobId: string }).jobId)).toMatchObject({ name: 'reconcile', data: { catalogId: id } });
    }
    // Nothing of it in Postgres: only its points tell.
    await request(app).post(`/v1/catalogs/${withPoints}/reconcile`).expect(404);
    points = 4;
    expect((await request(app).post(`/v1/catalogs/${withPoints}/reconcile`).expect(202)).body).toMatchObject({ catalogDeleted: true });
  });

  it('answers 404 for a catalog that does not exist', async () => {
    const missing = '5b0c1a0e-0000-4000-8000-000000000000';
    points = 0;
    await request(app).get(`/v1/catalogs/${missing}/index`).expect(404);
    await request(app).post(`/v1/catalogs/${missing}/reconcile`).expect(404);
  });
});
