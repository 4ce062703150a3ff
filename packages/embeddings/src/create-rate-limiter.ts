import { type Cluster, type Redis } from 'ioredis';
import { type Config } from '@catalog-indexer/config';
import { RedisRateLimiter } from './redis-rate-limiter';

/**
 * The rate limiter every worker process shares for the configured model: `EMBEDDING_RPM` and
 * `EMBEDDING_TPM` (each unlimited when unset; 429 pauses are shared either way), keys under the queue
 * prefix. Undefined when no API is called (local embedder).
 */
export function createRateLimiter(
  config: Config['embeddings'],
  redis: { connection: Redis | Cluster; prefix: string },
): RedisRateLimiter | undefined {
  if (config.provider !== 'openai' || !config.apiKey) return undefined;
  return new RedisRateLimiter({
    connection: redis.connection,
    prefix: redis.prefix,
    name: `embeddings:${config.model}`,
    requestsPerMinute: config.requestsPerMinute,
    tokensPerMinute: config.tokensPerMinute,
  });
}
