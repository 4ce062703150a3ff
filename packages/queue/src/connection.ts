import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { type Config } from '@catalog-indexer/config';

/** A connection to the configured Redis: one node, or a Redis Cluster. Both speak the same commands. */
export type RedisClient = Redis | Cluster;

/** What a role needs from the configuration: `config.redis`, or a bare URL for one node. */
export type RedisTarget = Config['redis'] | string;

/**
 * Options per role. Workers wait for Redis forever (`maxRetriesPerRequest: null`, as BullMQ requires);
 * producers fail fast so that an HTTP request gets an answer when Redis is down.
 */
function roleOptions(role: 'worker' | 'producer'): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 };
}

/** Credentials, database and TLS of a `redis://` or `rediss://` URL, for the nodes of a cluster. */
function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const options: RedisOptions = {};
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') options.tls = {};
  return options;
}

/**
 * A Redis connection for BullMQ and for the project's own keys. In cluster mode (`REDIS_CLUSTER`,
 * `REDIS_CLUSTER_NODES`) it is an ioredis `Cluster` seeded with the configured nodes: any node will do, the
 * client learns which node owns which slot and follows `MOVED` redirections. Managed clusters behind TLS
 * (`rediss://`) announce node addresses that only resolve with their certificates' names, so the client
 * keeps the announced names as given.
 */
export function createRedisConnection(target: RedisTarget, role: 'worker' | 'producer'): RedisClient {
  const redis: Config['redis'] =
    typeof target === 'string' ? { url: target, cluster: false, nodes: [] } : target;
  const options = roleOptions(role);
  if (!redis.cluster) return new Redis(redis.url, { ...options, lazyConnect: false });
  const { enableOfflineQueue, ...nodeOptions } = options;
  const fromUrl = urlOptions(redis.url);
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...nodeOptions, ...fromUrl },
    // Reads go to masters too: BullMQ reads what it has just written.
    scaleReads: 'master',
    ...(enableOfflineQueue === false ? { enableOfflineQueue: false } : {}),
    ...(fromUrl.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  return new Cluster(redis.nodes, clusterOptions);
}

/** True when the client is a Redis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * The master nodes of a cluster, or the client itself for one node: commands that act on every key (SCAN,
 * FLUSHDB) must run on each of them.
 */
export function masterNodes(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}
