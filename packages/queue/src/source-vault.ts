import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { type RedisClient } from './connection';

/**
 * How long a connection string waits for its job to start (and for its next attempt): short, since the job
 * refreshes it while it runs and forgets it when it ends.
 */
export const SOURCE_VAULT_TTL_S = 60 * 60;

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The vault's key cannot open a value: api and workers were given different secrets. */
export class SourceVaultKeyError extends Error {
  readonly permanent = true;
  constructor() {
    super('the connection string of this job cannot be decrypted: give the api and every worker the same SOURCE_VAULT_KEY (or the same DATABASE_URL when it is not set), then ask again');
  }
}

/**
 * Keeps a connection string out of job data: the api puts it here under a random reference that the job
 * carries; the job reads it and forgets it when it ends. The value is encrypted at rest with AES-256-GCM
 * (a fresh IV per value, the reference as additional data, so a value cannot be moved to another reference),
 * under a key derived with HKDF-SHA256 from a secret that api and workers share; Redis never holds the
 * string in clear, nor Postgres, a log or a job. Values expire by themselves after {@link SOURCE_VAULT_TTL_S}.
 */
export class SourceVault {
  private readonly key: Buffer;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** The shared secret (`config.sourceVault.secret`). */
    secret: string,
    private readonly ttlS = SOURCE_VAULT_TTL_S,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'catalog-indexer', 'source-vault aes-256-gcm', 32));
  }

  async put(url: string): Promise<string> {
    const ref = randomUUID();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(ref));
    const sealed = Buffer.concat([iv, cipher.update(url, 'utf8'), cipher.final()]);
    const value = `${FORMAT}.${Buffer.concat([sealed, cipher.getAuthTag()]).toString('base64')}`;
    await this.redis.set(this.redisKey(ref), value, 'EX', this.ttlS);
    return ref;
  }

  /**
   * The connection string under `ref` (its expiry pushed back a full TTL), or null once it expired or was
   * forgotten. @throws SourceVaultKeyError when this process's key cannot open it
   */
  async get(ref: string): Promise<string | null> {
    const value = await this.redis.getex(this.redisKey(ref), 'EX', this.ttlS);
    if (value === null) return null;
    const [format, body] = value.split('.', 2);
    const bytes = Buffer.from(body ?? '', 'base64');
    if (format !== FORMAT || bytes.length < IV_BYTES + TAG_BYTES) throw new SourceVaultKeyError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(ref));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SourceVaultKeyError();
    }
  }

  /** Keeps `ref` from expiring while a job that uses it runs; call the answer to stop. */
  keepAlive(ref: string): () => void {
    const timer = setInterval(() => void this.redis.expire(this.redisKey(ref), this.ttlS).catch(() => undefined), (this.ttlS * 1000) / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  async forget(ref: string): Promise<void> {
    await this.redis.del(this.redisKey(ref));
  }

  private redisKey(ref: string): string {
    return `${this.prefix}:source-vault:${ref}`;
  }
}
