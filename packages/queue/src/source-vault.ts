import { randomUUID } from 'node:crypto';
import { type RedisClient } from './connection';

/** How long a connection string waits for its job: the job's retries fit in it. */
const TTL_S = 24 * 60 * 60;

/**
 * Keeps a connection string out of job data: the api puts it here under a random reference that the job
 * carries, the job reads it and forgets it once done. Held only in Redis, never in Postgres or a log, and
 * expiring by itself after a day.
 */
export class SourceVault {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async put(url: string): Promise<string> {
    const ref = randomUUID();
    await this.redis.set(this.key(ref), url, 'EX', TTL_S);
    return ref;
  }

  async get(ref: string): Promise<string | null> {
    return this.redis.get(this.key(ref));
  }

  async forget(ref: string): Promise<void> {
    await this.redis.del(this.key(ref));
  }

  private key(ref: string): string {
    return `${this.prefix}:source-vault:${ref}`;
  }
}
