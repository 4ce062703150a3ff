import { CatalogRepository, IndexRunRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { createTestDatabase, startEmulatorProcess, startRedisServer, uniqueName, uniqueQueuePrefix, type RedisServerProcess, type TestDatabase } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import request from 'supertest';
import { createApp } from './app';

/** /readyz must fail when the queue's calls fail, even while Redis still answers PING. */
describe('api readiness', () => {
  let db: TestDatabase<DataSource>;
  let redisServer: RedisServerProcess;
  let redis: RedisClient;
  let jobs: JobProducer;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    redisServer = await startRedisServer();
    redis = createRedisConnection(redisServer.url, 'producer');
    jobs = new JobProducer(redis, uniqueQueuePrefix('ready'));
  });
  afterAll(async () => {
    await jobs?.close();
    redis?.disconnect();
    await redisServer?.stop();
    await db?.drop();
  });

  it('answers 200 with the job counts, and 503 naming the error while Redis refuses the queue calls', async () => {
    const app = createApp({
      logger: createLogger({ level: 'silent' }),
      dataSource: db.dataSource,
      redis,
      catalogs: new CatalogRepository(db.dataSource),
      runs: new IndexRunRepository(db.dataSource),
      jobs,
      maxUploadBytes: 1_000_000,
    });
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { postgres: true, redis: true }, queue: { counts: { waiting: 0 } } });

    const restore = await redisServer.answerWithErrors();
    try {
      expect(await redis.ping()).toBe('PONG');
      const refused = await request(app).get('/readyz').expect(503);
      expect(refused.body).toMatchObject({ status: 'not ready', checks: { redis: false }, queue: { ready: false } });
      expect((refused.body as { queue: { error: string } }).queue.error).toMatch(/NOPERM/);
    } finally {
      await restore();
    }
    await request(app).get('/readyz').expect(200);
  });

  /** Milliseconds `fn` took, with its result. */
  const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
    const started = Date.now();
    const value = await fn();
    return { ms: Date.now() - started, value };
  };

  it('answers /readyz within its bound with 503 naming Redis while the Redis server hangs (SIGSTOP), and 200 once it answers again', async () => {
    const app = createApp({
      logger: createLogger({ level: 'silent' }),
      dataSource: db.dataSource,
      redis,
      catalogs: new CatalogRepository(db.dataSource),
      runs: new IndexRunRepository(db.dataSource),
      jobs,
      maxUploadBytes: 1_000_000,
    });
    await request(app).get('/readyz').expect(200);
    redisServer.child.kill('SIGSTOP');
    try {
      const { ms, value } = await timed(() => request(app).get('/readyz'));
      expect(value.status).toBe(503);
      // 3 s per check, all at once; the rest is this busy machine.
      expect(ms).toBeLessThan(4_500);
      expect(value.body).toMatchObject({ status: 'not ready', checks: { postgres: true, redis: false } });
      expect((value.body as { problems: { redis: string } }).problems.redis).toMatch(/no answer from Redis within 3000 ms|redis did not answer within 3000 ms/);
    } finally {
      redisServer.child.kill('SIGCONT');
    }
    await request(app).get('/readyz').expect(200);
  });

  it('answers GET /v1/catalogs/:id/index within its bound while the vector store hangs (SIGSTOP), saying the points could not be counted', async () => {
    const qdrant = await startEmulatorProcess('qdrant');
    try {
      const store = new QdrantStore({ url: qdrant.url, collection: uniqueName('ready'), dimensions: 8 });
      await store.ensureCollection();
      const app = createApp({
        logger: createLogger({ level: 'silent' }),
        dataSource: db.dataSource,
        redis,
        catalogs: new CatalogRepository(db.dataSource),
        runs: new IndexRunRepository(db.dataSource),
        jobs,
        maxUploadBytes: 1_000_000,
        countPoints: (catalogId) => store.count(catalogId),
      });
      const { id } = (await request(app).post('/v1/catalogs').send(shopCatalog).expect(201)).body as { id: string };
      expect((await request(app).get(`/v1/catalogs/${id}/index`).expect(200)).body).toMatchObject({ points: 0, inStep: true });
      qdrant.freeze();
      const { ms, value } = await timed(() => request(app).get(`/v1/catalogs/${id}/index`));
      expect(ms).toBeLessThan(4_500);
      expect(value.status).toBe(200);
      expect(value.body).toMatchObject({ catalogId: id, points: null, inStep: null, pointsError: 'the vector store (Qdrant) did not answer within 3000 ms' });
      qdrant.thaw();
      expect((await request(app).get(`/v1/catalogs/${id}/index`).expect(200)).body).toMatchObject({ points: 0 });
    } finally {
      await qdrant.stop();
    }
  });
});
