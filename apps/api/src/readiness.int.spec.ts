import { CatalogRepository, IndexRunRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { createTestDatabase, startRedisServer, uniqueQueuePrefix, type RedisServerProcess, type TestDatabase } from '@catalog-indexer/testing';
import request from 'supertest';
import { createApp } from './app';

/** /readyz must fail when the queue's calls fail, even while Redis still answers PING. */
describe('api readiness', () => {
  let db: TestDatabase<DataSource>;
  let redisServer: RedisServerProcess;
  let redis: RedisClient;
  let jobs: JobProducer;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'test', migrate: false }));
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
});
