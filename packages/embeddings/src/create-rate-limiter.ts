import { Cluster, Redis } from 'ioredis';
import { type Config } from '@catalog-indexer/config';
import { RedisRateLimiter } from './redis-rate-limiter';

/** Who sends the requests a limiter admits: the worker processes, or the query service's questions. */
export type RateLimiterRole = 'workers' | 'query';

/** The query service's part of one limit: `share` of it rounded, at least 1 and leaving at least 1 to the workers. */
export function queryPart(limit: number, share: number): number {
  return Math.min(limit - 1, Math.max(1, Math.round(limit * share)));
}

/**
 * The rate limiter shared by every process that embeds for the configured model, keys under the queue
 * prefix: each of `EMBEDDING_RPM` and `EMBEDDING_TPM` (unlimited when unset) is split between the query
 * service, which gets `QUERY_EMBEDDING_SHARE` of it ({@link queryPart}) in a window of its own, and the
 * workers, which share the rest. Neither side's grants count against the other's part, so workers
 * saturating theirs cannot delay a question, and questions cannot take more than their part; a part left
 * idle is not lent. A limit of 1 cannot be split: then both sides share one window. A 429 pauses both
 * sides. Undefined for the local embedder (no API is called).
 */
export function createRateLimiter(
  config: Config['embeddings'],
  redis: { connection: Redis | Cluster; prefix: string },
  role: RateLimiterRole = 'workers',
): RedisRateLimiter | undefined {
  if (config.provider !== 'openai' || !config.apiKey) return undefined;
  const { requestsPerMinute, tokensPerMinute, queryShare } = config;
  const split = [requestsPerMinute, tokensPerMinute].every((limit) => limit === undefined || limit >= 2);
  const part = (limit: number | undefined) => {
    if (limit === undefined || !split) return limit;
    return role === 'query' ? queryPart(limit, queryShare) : limit - queryPart(limit, queryShare);
  };
  return new RedisRateLimiter({
    connection: redis.connection,
    prefix: redis.prefix,
    name: `embeddings:${config.model}`,
    ...(split && role === 'query' ? { lane: 'query' } : {}),
    requestsPerMinute: part(requestsPerMinute),
    tokensPerMinute: part(tokensPerMinute),
  });
}

/**
 * A Redis connection for the query service's limiter alone (the query service uses no queue): commands fail
 * within a second when Redis is away, so that a question is never held up by it (see
 * {@link FailOpenRateLimiter}). One node, or a Redis Cluster seeded with the configured nodes.
 */
export function createRateLimiterConnection(redis: Config['redis']): Redis | Cluster {
  const options = { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 1_000 };
  if (!redis.cluster) return new Redis(redis.url, options);
  const u = new URL(redis.url);
  return new Cluster(redis.nodes, {
    scaleReads: 'master',
    redisOptions: {
      ...options,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}
