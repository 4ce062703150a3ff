import { randomUUID } from 'node:crypto';
import { spawnApp, type AppProcess } from '@catalog-indexer/devstack';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import {
  createTestDatabase,
  freePort,
  startRedisServer,
  uniqueName,
  uniqueQueuePrefix,
  waitFor,
  type RedisServerProcess,
  type TestDatabase,
  qdrantEnv,
} from '@catalog-indexer/testing';

jest.setTimeout(150_000);

const OUTAGE_MS = 20_000;

const lineCount = (text: string) => text.split('\n').filter((l) => l.trim() !== '').length;

/**
 * A worker process whose Redis (a redis-server of the test's own, never the machine's) answers every call
 * with an error for 20 seconds: the worker backs off and logs summaries instead of one line per failed
 * call, reports not ready meanwhile, and processes jobs again once Redis answers.
 */
describe('a worker while Redis answers with errors', () => {
  let db: TestDatabase<DataSource>;
  let redisServer: RedisServerProcess;
  let qdrant: QdrantEmulator;
  let worker: AppProcess | undefined;
  let connection: RedisClient;
  let jobs: JobProducer;
  let health: string;

  const cleanupCompletes = async (timeoutMs: number) => {
    const { jobId } = await jobs.enqueue('cleanup', { catalogId: randomUUID(), catalogDeleted: true });
    return waitFor(`cleanup job ${jobId} to complete`, async () => (await jobs.getJob(jobId))?.state === 'completed', {
      timeoutMs,
      intervalMs: 250,
    });
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'test', migrate: true }));
    redisServer = await startRedisServer();
    qdrant = new QdrantEmulator();
    const q = await qdrant.start(0);
    const prefix = uniqueQueuePrefix('errors');
    const healthPort = await freePort();
    health = `http://127.0.0.1:${healthPort}`;
    worker = spawnApp('worker', {
      DATABASE_URL: db.url,
      REDIS_URL: redisServer.url,
      REDIS_CLUSTER: 'false',
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: uniqueName('errors'),
      OPENAI_API_KEY: '',
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '64',
      WORKER_HEALTH_PORT: String(healthPort),
      DB_PROCESS_COUNT: '1',
      LOG_LEVEL: 'info',
    });
    await waitFor('the worker to be ready', () => worker!.output().includes('worker ready'), { timeoutMs: 60_000 });
    connection = createRedisConnection(redisServer.url, 'producer');
    jobs = new JobProducer(connection, prefix);
  });

  afterAll(async () => {
    await worker?.stop();
    await jobs?.close();
    connection?.disconnect();
    await qdrant?.stop();
    await redisServer?.stop();
    await db?.drop();
  });

  it('writes fewer than 100 log lines in 20 s of errors, answers not ready, and resumes when Redis is back', async () => {
    await cleanupCompletes(30_000);
    expect((await fetch(`${health}/readyz`)).status).toBe(200);

    const linesBefore = lineCount(worker!.output());
    const restore = await redisServer.answerWithErrors();
    let outage: string;
    try {
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
      const notReady = await fetch(`${health}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ checks: { redis: false } });
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
      outage = worker!.output().split('\n').filter((l) => l.trim() !== '').slice(linesBefore).join('\n');
    } finally {
      await restore();
    }

    const written = lineCount(outage);
    if (written >= 100) throw new Error(`the worker wrote ${written} lines in ${OUTAGE_MS} ms:\n${outage.slice(0, 3_000)}`);
    // The errors did happen, and were told when they started, then at most once per summary interval (with a
    // count and the first error), never line by line; how many calls fail depends on the worker's backoff.
    expect(outage).toMatch(/redis calls are failing: NOPERM/);
    const told = outage.split('\n').filter((l) => l.includes('NOPERM'));
    expect(told.length).toBeLessThanOrEqual(1 + Math.ceil(OUTAGE_MS / 10_000));
    for (const line of told.slice(1)) expect(line).toMatch(/\d+ failed redis calls in the last \d+ s \(first: NOPERM/);

    await cleanupCompletes(60_000);
    // The closing summary: how many calls failed in all, and the first error.
    await waitFor('the worker to say Redis answers again', () => /redis calls succeed again after \d+ failures/.test(worker!.output()), {
      timeoutMs: 30_000,
    });
    expect((await fetch(`${health}/readyz`)).status).toBe(200);
  });
});
