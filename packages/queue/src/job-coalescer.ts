import { type RedisClient } from './connection';
import { CATALOG_QUEUE } from './job-catalog';

/** Where a request for a catalog job went. */
export interface Reservation {
  jobId: string;
  /** `new`: a job must be added with this id; `waiting`: joined a job not started yet; `active`: joined a running one. */
  joined: 'new' | 'waiting' | 'active';
  /** When the waiting job was reserved (ms), to spot a reservation whose job was never added. */
  reservedAt?: number;
}

// KEYS[1] the catalog's marker; ARGV: new id, force, version, now.
// A request joins the job that waits for this catalog (raising its force flag); a forced request also joins
// a forced run of the same version that is active; otherwise it reserves a new waiting job.
const RESERVE = `
local waiting = redis.call('HGET', KEYS[1], 'waiting')
if waiting then
  if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'waitingForce', '1') end
  return {waiting, 'waiting', redis.call('HGET', KEYS[1], 'waitingAt')}
end
if ARGV[2] == '1' then
  local active = redis.call('HGET', KEYS[1], 'active')
  if active and redis.call('HGET', KEYS[1], 'activeForce') == '1' and redis.call('HGET', KEYS[1], 'activeVersion') == ARGV[3] then
    return {active, 'active', ''}
  end
end
redis.call('HSET', KEYS[1], 'waiting', ARGV[1], 'waitingForce', ARGV[2], 'waitingAt', ARGV[4])
return {ARGV[1], 'new', ARGV[4]}
`;

// KEYS[1] marker; ARGV: job id. The waiting job starts: it becomes the active one, and later requests
// reserve a follow-up. Answers the force flag of every request it carries ('1'/'0'), or '' when this job is
// not the one reserved (a retried job that was already claimed answers its active flag).
const CLAIM = `
if redis.call('HGET', KEYS[1], 'waiting') == ARGV[1] then
  local force = redis.call('HGET', KEYS[1], 'waitingForce') or '0'
  redis.call('HDEL', KEYS[1], 'waiting', 'waitingForce', 'waitingAt')
  redis.call('HSET', KEYS[1], 'active', ARGV[1], 'activeForce', force, 'activeVersion', '')
  return force
end
if redis.call('HGET', KEYS[1], 'active') == ARGV[1] then
  return redis.call('HGET', KEYS[1], 'activeForce') or '0'
end
return ''
`;

// KEYS[1] marker; ARGV: job id, version. Records the version the active job indexes.
const SET_VERSION = `
if redis.call('HGET', KEYS[1], 'active') == ARGV[1] then redis.call('HSET', KEYS[1], 'activeVersion', ARGV[2]) end
return 1
`;

// KEYS[1] marker; ARGV: job id. The active job finished.
const FINISH = `
if redis.call('HGET', KEYS[1], 'active') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'active', 'activeForce', 'activeVersion')
end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return 1
`;

// KEYS[1] marker; ARGV: job id. Drops a waiting reservation whose job is gone (never added, or removed).
const FORGET = `
if redis.call('HGET', KEYS[1], 'waiting') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'waiting', 'waitingForce', 'waitingAt')
  return 1
end
return 0
`;

/**
 * Coalesces requests for the same job of the same catalog, across every api process, so that every caller
 * gets the id of the job that carries its request:
 * - while a job waits (not started), every request joins it (a forced request makes it forced);
 * - once it starts (the worker claims it), the next request reserves a follow-up, which runs on the catalog
 *   as it is then (the latest version);
 * - a forced request arriving while a forced run of the same catalog version is active joins that run.
 * The marker is one Redis hash per catalog and job name, under the queue's prefix (one hash slot when the
 * prefix is a hash tag), changed only by atomic scripts.
 */
export class JobCoalescer {
  /** `ready` resolves once the connection can take commands (a fail-fast producer connection has no offline queue). */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ready: () => Promise<unknown> = () => Promise.resolve(),
  ) {}

  private async eval(script: string, key: string, ...args: string[]): Promise<unknown> {
    await this.ready();
    return this.redis.eval(script, 1, key, ...args);
  }

  key(name: string, catalogId: string): string {
    return `${this.prefix}:${CATALOG_QUEUE}:coalesce:${name}:${catalogId}`;
  }

  async reserve(name: string, catalogId: string, newId: string, force: boolean, version: number | null): Promise<Reservation> {
    const [jobId, joined, at] = (await this.eval(
      RESERVE,
      this.key(name, catalogId),
      newId,
      force ? '1' : '0',
      version === null ? '' : String(version),
      String(Date.now()),
    )) as [string, Reservation['joined'], string | null];
    return { jobId, joined, ...(at ? { reservedAt: Number(at) } : {}) };
  }

  /** The job starts: returns whether any request it carries was forced, or null when it is not the reserved job. */
  async claim(name: string, catalogId: string, jobId: string): Promise<boolean | null> {
    const force = (await this.eval(CLAIM, this.key(name, catalogId), jobId)) as string;
    return force === '' ? null : force === '1';
  }

  async setVersion(name: string, catalogId: string, jobId: string, version: number): Promise<void> {
    await this.eval(SET_VERSION, this.key(name, catalogId), jobId, String(version));
  }

  async finish(name: string, catalogId: string, jobId: string): Promise<void> {
    await this.eval(FINISH, this.key(name, catalogId), jobId);
  }

  async forget(name: string, catalogId: string, jobId: string): Promise<boolean> {
    return ((await this.eval(FORGET, this.key(name, catalogId), jobId)) as number) === 1;
  }
}
