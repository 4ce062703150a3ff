import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, uniqueName, type RedisClusterProcess } from '@catalog-indexer/testing';
import { RedisRateLimiter } from './redis-rate-limiter';

// Starting a cluster of three redis-server processes takes a few seconds on a busy machine.
jest.setTimeout(120_000);

const WINDOW_MS = 1_000;

describe(`${RedisRateLimiter.name} on a Redis Cluster`, () => {
  let cluster: RedisClusterProcess;
  const connections: Cluster[] = [];

  /** A limiter on its own cluster connection, seeded with one node only: it finds the slot's owner itself. */
  const limiter = (prefix: string, name: string, seedIndex: number): RedisRateLimiter => {
    const node = cluster.nodes[seedIndex % cluster.nodes.length]!;
    const connection = new Cluster([{ host: node.host, port: node.port }], { redisOptions: { maxRetriesPerRequest: 1 } });
    connections.push(connection);
    return new RedisRateLimiter({ connection, prefix, name, windowMs: WINDOW_MS, marginMs: 0, tokensPerMinute: 100 });
  };

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    await cluster?.stop();
  });

  it.each([
    ['a plain queue prefix', uniqueName('cidx')],
    ['a hash-tagged queue prefix', `{${uniqueName('cidx')}}`],
  ])('shares one budget between processes seeded with different nodes, with %s', async (_, prefix) => {
    const name = uniqueName('model');
    const a = limiter(prefix, name, 0);
    const b = limiter(prefix, name, 1);
    // Each of the three scripts runs on the cluster: acquire, refund, pause.
    await a.refund(await a.acquire(30));
    await a.pause(1);
    await a.acquire(70);
    const started = Date.now();
    await b.acquire(40);
    // 70 + 40 > 100: the second waits for the first grant to leave the window, so both saw the same log.
    expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    // The node that owns the limiter's slot answers for every key (another node would answer MOVED).
    const owner = await cluster.ownerOf(a.keys[0]!);
    const client = new Redis(owner.port, owner.host, { maxRetriesPerRequest: 1 });
    try {
      const present = await Promise.all(a.keys.map((k) => client.exists(k)));
      // The token log and its sum; requests are not limited here, so not logged.
      expect(present.slice(0, 4)).toEqual([0, 0, 1, 1]);
    } finally {
      client.disconnect();
    }
  });
});
