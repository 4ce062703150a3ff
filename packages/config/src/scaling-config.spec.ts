import { ConfigError, hashTagOf, loadConfig } from './index';

function problemsOf(env: Record<string, string>): ConfigError['problems'] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('Redis Cluster configuration', () => {
  it('uses one node from REDIS_URL when no cluster is asked for', () => {
    const config = loadConfig({ REDIS_URL: 'redis://r:6380' });
    expect(config.redis).toEqual({ url: 'redis://r:6380', cluster: false, nodes: [{ host: 'r', port: 6380 }] });
    expect(config.queue).toEqual({ prefix: 'cidx', hashTag: undefined });
  });

  it('accepts a hash-tagged prefix and seeds the cluster from REDIS_URL', () => {
    const config = loadConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'rediss://u:p@c.example:7000', QUEUE_PREFIX: '{cidx}' });
    expect(config.redis).toMatchObject({ cluster: true, nodes: [{ host: 'c.example', port: 7000 }] });
    expect(config.queue).toEqual({ prefix: '{cidx}', hashTag: '{cidx}' });
  });

  it('takes seed nodes from REDIS_CLUSTER_NODES, which implies cluster mode', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'a:7000,b:7001', QUEUE_PREFIX: '{cidx}prod' });
    expect(config.redis.cluster).toBe(true);
    expect(config.redis.nodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
    expect(config.queue.hashTag).toBe('{cidx}');
  });

  it('refuses an untagged prefix in cluster mode, naming QUEUE_PREFIX and the fix', () => {
    const problems = problemsOf({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: 'cidx' });
    expect(problems).toEqual([{ key: 'QUEUE_PREFIX', message: expect.stringContaining('QUEUE_PREFIX={cidx}') }]);
  });

  it('refuses malformed seed nodes and prefixes with a colon or a stray brace', () => {
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:7000,b' }).map((p) => p.key)).toEqual(['REDIS_CLUSTER_NODES']);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:70000', QUEUE_PREFIX: '{x}' }).map((p) => p.key)).toEqual(['REDIS_CLUSTER_NODES']);
    for (const prefix of ['{cidx}:a', '{}', 'a{b}', '{cidx']) {
      expect(problemsOf({ QUEUE_PREFIX: prefix }).map((p) => p.key)).toEqual(['QUEUE_PREFIX']);
    }
  });

  it('finds the hash tag a prefix starts with', () => {
    expect(hashTagOf('{cidx}')).toBe('{cidx}');
    expect(hashTagOf('{cidx}e2e_1')).toBe('{cidx}');
    expect(hashTagOf('cidx')).toBeUndefined();
  });
});

describe('Qdrant distributed-mode configuration', () => {
  it('leaves the collection parameters to Qdrant by default', () => {
    expect(loadConfig({}).qdrant).toMatchObject({ shardNumber: undefined, replicationFactor: undefined, writeConsistencyFactor: undefined });
  });

  it('reads shard number, replication factor and write consistency factor', () => {
    const config = loadConfig({ QDRANT_SHARD_NUMBER: '6', QDRANT_REPLICATION_FACTOR: '2', QDRANT_WRITE_CONSISTENCY_FACTOR: '1' });
    expect(config.qdrant).toMatchObject({ shardNumber: 6, replicationFactor: 2, writeConsistencyFactor: 1 });
  });

  it('refuses values Qdrant refuses: below 1, fractions and more than uint32', () => {
    const problems = problemsOf({ QDRANT_SHARD_NUMBER: '0', QDRANT_REPLICATION_FACTOR: '1.5', QDRANT_WRITE_CONSISTENCY_FACTOR: '4294967296' });
    expect(problems.map((p) => p.key).sort()).toEqual(['QDRANT_REPLICATION_FACTOR', 'QDRANT_SHARD_NUMBER', 'QDRANT_WRITE_CONSISTENCY_FACTOR']);
  });
});

describe('Postgres connection budget', () => {
  it('counts four processes by default and reads DB_PROCESS_COUNT', () => {
    expect(loadConfig({}).postgres.processCount).toBe(4);
    expect(loadConfig({ DB_PROCESS_COUNT: '12' }).postgres.processCount).toBe(12);
  });
});
