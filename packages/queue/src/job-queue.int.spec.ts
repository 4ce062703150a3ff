import { randomUUID } from 'node:crypto';
import { loadConfig } from '@catalog-indexer/config';
import { deleteRedisPrefix, uniqueQueuePrefix, waitFor } from '@catalog-indexer/testing';
import { createJobWorker, createRedisConnection, JobProducer, type JobHandlers, type RedisClient, type Worker } from './index';

describe(JobProducer.name, () => {
  const prefix = uniqueQueuePrefix('test-queue');
  const redisConfig = loadConfig().redis;
  let producerConnection: RedisClient;
  let workerConnection: RedisClient;
  let producer: JobProducer;
  let worker: Worker | undefined;

  beforeAll(() => {
    producerConnection = createRedisConnection(redisConfig, 'producer');
    workerConnection = createRedisConnection(redisConfig, 'worker');
    producer = new JobProducer(producerConnection, prefix);
  });
  afterAll(async () => {
    await worker?.close();
    await producer.close();
    producerConnection.disconnect();
    workerConnection.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('refuses a payload that does not match the job catalog', async () => {
    await expect(producer.enqueue('reindex', { catalogId: 'not-a-uuid' })).rejects.toThrow(/catalogId/);
  });

  it('coalesces requests for the same catalog while one is waiting', async () => {
    const catalogId = randomUUID();
    const first = await producer.enqueue('reindex', { catalogId });
    const second = await producer.enqueue('reindex', { catalogId });
    expect(first.deduplicated).toBe(false);
    expect(second).toMatchObject({ jobId: first.jobId, deduplicated: true });
    const other = await producer.enqueue('cleanup', { catalogId });
    expect(other.jobId).not.toBe(first.jobId);
    const view = await producer.getJob(first.jobId);
    expect(view).toMatchObject({ name: 'reindex', state: 'waiting', data: { catalogId, force: false } });
  });

  it('keeps a forced request that joins a waiting job', async () => {
    const catalogId = randomUUID();
    const first = await producer.enqueue('reindex', { catalogId });
    const forced = await producer.enqueue('reindex', { catalogId, force: true });
    expect(forced).toMatchObject({ jobId: first.jobId, deduplicated: true });
    expect((await producer.getJob(first.jobId))?.data).toEqual({ catalogId, force: true });
  });

  it('hands each job to its handler with the validated payload and reports the result', async () => {
    const seen: string[] = [];
    const handlers: JobHandlers = {
      reindex: (payload) => {
        seen.push(`reindex ${payload.catalogId}`);
        return Promise.resolve({ embedded: 1 });
      },
      cleanup: (payload) => {
        seen.push(`cleanup ${payload.catalogId}`);
        return Promise.resolve({ deleted: 0 });
      },
    };
    worker = createJobWorker({ connection: workerConnection, prefix, concurrency: 1, handlers });
    const catalogId = randomUUID();
    const { jobId } = await producer.enqueue('cleanup', { catalogId });
    const done = await waitFor('the cleanup job to complete', async () => {
      const v = await producer.getJob(jobId);
      return v?.state === 'completed' ? v : undefined;
    });
    expect(done.result).toEqual({ deleted: 0 });
    expect(seen).toContain(`cleanup ${catalogId}`);
  });

  it('fails a job whose payload is invalid without retrying it', async () => {
    const id = `bad-${randomUUID()}`;
    await producer.queue.add('reindex', { catalogId: 42 }, { jobId: id, attempts: 3 });
    const failed = await waitFor('the bad job to fail', async () => {
      const v = await producer.getJob(id);
      return v?.state === 'failed' ? v : undefined;
    });
    expect(failed.failedReason).toMatch(/invalid reindex payload/);
    expect(failed.attemptsMade).toBe(1);
  });

  it('fails a job for good when its handler throws a permanent error', async () => {
    const catalogId = randomUUID();
    const permanent = Object.assign(new Error('bad key'), { permanent: true });
    const connection = createRedisConnection(redisConfig, 'worker');
    const failing = createJobWorker({
      connection,
      prefix: `${prefix}-perm`,
      concurrency: 1,
      handlers: { reindex: () => Promise.reject(permanent), cleanup: () => Promise.resolve(undefined) },
    });
    const other = new JobProducer(producerConnection, `${prefix}-perm`);
    try {
      const { jobId } = await other.enqueue('reindex', { catalogId });
      const failed = await waitFor('the job to fail', async () => {
        const v = await other.getJob(jobId);
        return v?.state === 'failed' ? v : undefined;
      });
      expect(failed).toMatchObject({ failedReason: 'bad key', attemptsMade: 1 });
    } finally {
      await failing.close();
      connection.disconnect();
      await other.close();
      await deleteRedisPrefix(`${prefix}-perm`);
    }
  });

  it('refuses to start a worker whose handlers do not match the catalog', () => {
    const none = () => Promise.resolve(undefined);
    const handlers = { reindex: none, cleanup: none, extra: none };
    expect(() =>
      createJobWorker({ connection: workerConnection, prefix, concurrency: 1, handlers }),
    ).toThrow(/unknown \[extra\]/);
  });
});
