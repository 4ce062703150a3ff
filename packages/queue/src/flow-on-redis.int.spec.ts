import { loadConfig } from '@catalog-indexer/config';
import { deleteRedisPrefix, uniqueQueuePrefix, waitFor } from '@catalog-indexer/testing';
import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import { createRedisConnection, type RedisClient } from './index';

/**
 * A parent job with children on the configured Redis, through the project's connection and a hash-tagged
 * prefix: on a Redis Cluster, BullMQ's flow scripts touch the keys of parent and children at once, which
 * only works when they share one slot.
 */
describe('BullMQ flows on the configured Redis', () => {
  const prefix = uniqueQueuePrefix('flow');
  const queueName = 'flow-check';
  let producerConnection: RedisClient;
  let workerConnection: RedisClient;
  let flows: FlowProducer;
  let worker: Worker | undefined;

  beforeAll(() => {
    producerConnection = createRedisConnection(loadConfig().redis, 'producer');
    workerConnection = createRedisConnection(loadConfig().redis, 'worker');
    flows = new FlowProducer({ connection: producerConnection, prefix });
  });
  afterAll(async () => {
    await worker?.close();
    await flows.close();
    producerConnection.disconnect();
    workerConnection.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('runs the children, then the parent with their results', async () => {
    worker = new Worker(
      queueName,
      async (job: Job) => {
        if (job.name === 'part') return (job.data as { n: number }).n * 10;
        const children = await job.getChildrenValues<number>();
        return Object.values(children).reduce((a, b) => a + b, 0);
      },
      { connection: workerConnection, prefix, concurrency: 2 },
    );
    const tree = await flows.add({
      name: 'sum',
      queueName,
      data: {},
      children: [1, 2, 3].map((n) => ({ name: 'part', queueName, data: { n } })),
    });
    const queue = new Queue(queueName, { connection: producerConnection, prefix });
    try {
      const parent = await waitFor('the parent job to complete', async () => {
        const job = await queue.getJob(tree.job.id!);
        return job?.finishedOn ? job : undefined;
      });
      expect(parent.failedReason ?? null).toBeNull();
      expect(parent.returnvalue).toBe(60);
      expect(await queue.getJobCounts('completed')).toEqual({ completed: 4 });
    } finally {
      await queue.close();
    }
  });
});
