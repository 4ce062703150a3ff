import { loadConfig } from '@catalog-indexer/config';
import { createRedisConnection, Queue, type RedisClient } from '@catalog-indexer/queue';
import { Worker } from 'bullmq';
import { deleteRedisPrefix, uniqueQueuePrefix, waitFor } from '@catalog-indexer/testing';
import { RECONCILE_SCHEDULER_ID, scheduleReconcile } from './reconcile-schedule';

describe(scheduleReconcile.name, () => {
  const prefix = uniqueQueuePrefix('rsched');
  let connection: RedisClient;
  let queue: Queue;

  beforeAll(() => {
    connection = createRedisConnection(loadConfig().redis.url, 'producer');
    queue = new Queue('reconcile-schedule-test', { connection, prefix });
  });
  afterAll(async () => {
    await queue.close();
    connection.disconnect();
    await deleteRedisPrefix(prefix);
  });

  const schedulers = async () => (await queue.getJobSchedulers()).map((s) => ({ id: s.key, every: s.every }));

  it('writes one schedule every worker shares, at the configured period', async () => {
    await scheduleReconcile(queue, 300_000);
    await scheduleReconcile(queue, 300_000);
    expect(await schedulers()).toEqual([{ id: RECONCILE_SCHEDULER_ID, every: 300_000 }]);
    await scheduleReconcile(queue, 60_000);
    expect(await schedulers()).toEqual([{ id: RECONCILE_SCHEDULER_ID, every: 60_000 }]);
  });

  it('removes an existing schedule and its next job when the period is 0', async () => {
    await scheduleReconcile(queue, 60_000);
    // The first run is due at once; once a worker takes it, the schedule's next run waits, delayed.
    const workerConnection = createRedisConnection(loadConfig().redis.url, 'worker');
    const worker = new Worker(queue.name, () => Promise.resolve(), { connection: workerConnection, prefix });
    try {
      await waitFor('the next run to be scheduled', async () => (await queue.getDelayedCount()) === 1, { timeoutMs: 20_000, intervalMs: 50 });
    } finally {
      await worker.close();
      workerConnection.disconnect();
    }
    await scheduleReconcile(queue, 0);
    expect(await schedulers()).toEqual([]);
    expect(await queue.getDelayedCount()).toBe(0);
    // Removing what is not there is not an error: every worker of an on-demand deployment does it at start.
    await expect(scheduleReconcile(queue, 0)).resolves.toBeUndefined();
  });
});
