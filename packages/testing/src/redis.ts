import { Cluster, Redis } from 'ioredis';
import { hashTagOf, loadConfig } from '@catalog-indexer/config';
import { uniqueName } from './names';

/** A client of the configured Redis: a `Cluster` in cluster mode, else one node. */
function configuredRedis(): Redis | Cluster {
  const redis = loadConfig().redis;
  return redis.cluster
    ? new Cluster(redis.nodes, { redisOptions: { maxRetriesPerRequest: 1 } })
    : new Redis(redis.url, { maxRetriesPerRequest: 1 });
}

/**
 * Deletes every key under a queue prefix, so a test file leaves Redis as it found it. In cluster mode each
 * master is scanned for the keys it holds, and keys are deleted one per command (a multi-key DEL across
 * slots is refused by a cluster node).
 */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const client = configuredRedis();
  try {
    if (client instanceof Cluster) await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
    });
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    let deleted = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        for (const [error, n] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          deleted += Number(n);
        }
      } while (cursor !== '0');
    }
    return deleted;
  } finally {
    client.disconnect();
  }
}

/**
 * A queue prefix no other test file uses. It carries a hash tag, so it works on a Redis Cluster too: the
 * configured prefix's tag when it has one (so every test prefix lives in that tag's slot), else a tag of its
 * own: `{cidx}name_<hex>` or `{name_<hex>}`.
 */
export function uniqueQueuePrefix(name: string): string {
  const tag = hashTagOf(loadConfig().queue.prefix);
  return tag ? `${tag}${uniqueName(name)}` : `{${uniqueName(name)}}`;
}

/**
 * Everything Redis holds under a queue prefix, as text: each key with its value (strings), fields and
 * values (hashes), members (lists, sets, sorted sets) or entries (streams). For tests that prove a secret
 * is stored nowhere in clear.
 */
export async function readRedisPrefix(prefix: string): Promise<Map<string, string>> {
  const client = configuredRedis();
  const out = new Map<string, string>();
  try {
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const type = await node.type(key);
          let value: unknown = null;
          if (type === 'string') value = await node.get(key);
          else if (type === 'hash') value = await node.hgetall(key);
          else if (type === 'list') value = await node.lrange(key, 0, -1);
          else if (type === 'set') value = await node.smembers(key);
          else if (type === 'zset') value = await node.zrange(key, 0, -1);
          else if (type === 'stream') value = await node.xrange(key, '-', '+');
          out.set(key, JSON.stringify(value));
        }
      } while (cursor !== '0');
    }
    return out;
  } finally {
    client.disconnect();
  }
}
