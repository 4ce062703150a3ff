import { Redis } from 'ioredis';
import { loadConfig } from '@catalog-indexer/config';

/** Deletes every key under a queue prefix, so a test file leaves Redis as it found it. */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis(loadConfig().redis.url, { maxRetriesPerRequest: 1 });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
