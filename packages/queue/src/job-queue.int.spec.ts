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
    // The forced flag travels with the reservation: the job learns it when it starts.
    expect(await producer.coalescer.claim('reindex', catalogId, first.jobId)).toBe(true);
  });

  it('gives a request that arrives after the job started the id of a follow-up, which later requests join', async () => {
    const catalogId = randomUUID();
    const first = await producer.enqueue('reindex', { catalogId }, { version: 1 });
    expect(await producer.coalescer.claim('reindex', catalogId, first.jobId)).toBe(false);
    const second = await producer.enqueue('reindex', { catalogId }, { version: 1 });
    const third = await producer.enqueue('reindex', { catalogId, force: true }, { version: 1 });
    expect(second).toMatchObject({ deduplicated: false });
    expect(second.jobId).not.toBe(first.jobId);
    expect(third).toMatchObject({ jobId: second.jobId, deduplicated: true, joined: 'waiting' });
    // The follow-up carries the forced request: its claim says so.
    expect(await producer.coalescer.claim('reindex', catalogId, second.jobId)).toBe(true);
  });

  it('lets a forced request join a forced run of the same version that is active, and no other', async () => {
    const catalogId = randomUUID();
    const run = await producer.enqueue('reindex', { catalogId, force: true }, { version: 3 });
    expect(await producer.coalescer.claim('reindex', catalogId, run.jobId)).toBe(true);
    await producer.coalescer.setVersion('reindex', catalogId, run.jobId, 3);
    expect(await producer.enqueue('reindex', { catalogId, force: true }, { version: 3 })).toMatchObject({ jobId: run.jobId, joined: 'active' });
    const newer = await producer.enqueue('reindex', { catalogId, force: true }, { version: 4 });
    expect(newer.jobId).not.toBe(run.jobId);
    await producer.coalescer.finish('reindex', catalogId, run.jobId);
    expect(await producer.enqueue('reindex', { catalogId, force: true }, { version: 4 })).toMatchObject({ jobId: newer.jobId, joined: 'waiting' });
  });

  it('gives 100 concurrent requests the id of one job, which exists', async () => {
    const catalogId = randomUUID();
    const answers = await Promise.all(Array.from({ length: 100 }, () => producer.enqueue('reindex', { catalogId })));
    const ids = new Set(answers.map((a) => a.jobId));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => !a.deduplicated)).toHaveLength(1);
    for (const id of ids) expect(await producer.getJob(id)).not.toBeNull();
  });

  it('replaces a reservation whose job is gone', async () => {
    const catalogId = randomUUID();
    const first = await producer.enqueue('cleanup', { catalogId });
    await (await producer.queue.getJob(first.jobId))?.remove();
    await producerConnection.hset(producer.coalescer.key('cleanup', catalogId), 'waitingAt', '0');
    const next = await producer.enqueue('cleanup', { catalogId });
    expect(next.jobId).not.toBe(first.jobId);
    expect(await producer.getJob(next.jobId)).not.toBeNull();
  });

  it('tells a job still to finish from one that never was', async () => {
    const { jobId } = await producer.enqueue('reconcile', { catalogId: randomUUID() });
    expect(await producer.isUnfinished(jobId)).toBe(true);
    await producer.queue.add('reconcile', {}, { jobId: `later-${randomUUID()}`, delay: 60_000 });
    const delayed = (await producer.queue.getDelayed()).at(-1)?.id ?? '';
    expect(await producer.isUnfinished(delayed)).toBe(true);
    expect(await producer.isUnfinished(`reindex-${randomUUID()}`)).toBe(false);
    // Holders that are not jobs of this queue (their names have a colon) are never alive here.
    expect(await producer.isUnfinished(`${jobId}:released`)).toBe(false);
    expect(await producer.isUnfinished('')).toBe(false);
    await producer.queue.remove(delayed);
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
      'embed-batch': () => Promise.resolve(undefined),
      reconcile: () => Promise.resolve(undefined),
      'pgvector-adoption': () => Promise.resolve(undefined),
      'pgvector-rollback': () => Promise.resolve(undefined),
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
    // A finished job holds nothing any more.
    expect(await producer.isUnfinished(jobId)).toBe(false);
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
    expect(await producer.isUnfinished(id)).toBe(false);
  });

  it('fails a job for good when its handler throws a permanent error', async () => {
    const catalogId = randomUUID();
    const permanent = Object.assign(new Error('bad key'), { permanent: true });
    const connection = createRedisConnection(redisConfig, 'worker');
    const failing = createJobWorker({
      connection,
      prefix: `${prefix}-perm`,
      concurrency: 1,
      handlers: {
        reindex: () => Promise.reject(permanent),
        cleanup: () => Promise.resolve(undefined),
        'embed-batch': () => Promise.resolve(undefined),
        reconcile: () => Promise.resolve(undefined),
        'pgvector-adoption': () => Promise.resolve(undefined),
        'pgvector-rollback': () => Promise.resolve(undefined),
      },
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
    const handlers = { reindex: none, cleanup: none, 'embed-batch': none, reconcile: none, 'pgvector-adoption': none, 'pgvector-rollback': none, extra: none };
    expect(() =>
      createJobWorker({ connection: workerConnection, prefix, concurrency: 1, handlers }),
    ).toThrow(/unknown \[extra\]/);
  });
});
