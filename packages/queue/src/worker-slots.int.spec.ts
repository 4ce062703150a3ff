import { loadConfig } from '@catalog-indexer/config';
import { deleteRedisPrefix, uniqueQueuePrefix, waitFor } from '@catalog-indexer/testing';
import { createJobWorker, createRedisConnection, JOB_NAMES, JobProducer, workerSlots, type JobHandlers, type RedisClient, type Worker } from './index';

describe(workerSlots.name, () => {
  const prefix = uniqueQueuePrefix('test-slots');
  const redisConfig = loadConfig().redis;
  const connections: RedisClient[] = [];
  const workers: Worker[] = [];
  let producer: JobProducer;
  const connect = (role: 'producer' | 'worker') => {
    const c = createRedisConnection(redisConfig, role);
    connections.push(c);
    return c;
  };
  const idle = () => Promise.resolve('idle');
  const handlers = Object.fromEntries(JOB_NAMES.map((name) => [name, idle])) as unknown as JobHandlers;
  const startWorker = (concurrency: number) => {
    const worker = createJobWorker({ connection: connect('worker'), prefix, concurrency, handlers });
    workers.push(worker);
    return worker;
  };

  /**
   * True once BullMQ lists `expected` workers; otherwise throws what it lists (each connection's name, address,
   * age and last command), which `waitFor` reports if the count never comes.
   */
  const listed = (expected: number) => async () => {
    const clients = await producer.queue.getWorkers();
    if (clients.length === expected) return true;
    const seen = clients.map((c) => `${c.rawname} ${c.addr} age=${c.age} cmd=${c.cmd}`);
    throw new Error(`${clients.length} listed: [${seen.join('; ')}]`);
  };

  beforeAll(() => {
    producer = new JobProducer(connect('producer'), prefix);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await producer.close();
    for (const c of connections) c.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('counts the worker processes connected to the queue, times the jobs each runs at once', async () => {
    // No worker yet: the caller's own concurrency.
    expect(await workerSlots(producer.queue, 3)).toBe(3);
    startWorker(3);
    startWorker(3);
    await waitFor('two workers to be listed', listed(2), { timeoutMs: 20_000 });
    expect(await workerSlots(producer.queue, 3)).toBe(6);
    await workers.pop()!.close();
    await waitFor('one worker to be listed', listed(1), { timeoutMs: 20_000 });
    expect(await workerSlots(producer.queue, 3)).toBe(3);
  });
});
