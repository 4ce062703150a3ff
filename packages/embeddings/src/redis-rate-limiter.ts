import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type Cluster, type Redis } from 'ioredis';
import { ACQUIRE_SCRIPT, PAUSE_SCRIPT, REFUND_SCRIPT } from './rate-limit.scripts';
import { type RateLimitGrant, type RateLimiter } from './rate-limiter';

/** Options of {@link RedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /** Any ioredis connection, single node or cluster; the limiter sends only short scripts on it. */
  connection: Redis | Cluster;
  /** Key prefix, normally the BullMQ queue prefix: keys are `<prefix>:{ratelimit:<name>}:…`. */
  prefix: string;
  /** One limiter per API limit: processes with the same prefix and name share one budget. */
  name: string;
  /**
   * A part of the budget with a window of its own (`query`): its grants are counted apart from the
   * unnamed lane's, against the limits given here, while 429 pauses stay shared by every lane of the name.
   */
  lane?: string;
  /** Requests per minute; undefined = not limited (429 pauses still apply). */
  requestsPerMinute?: number;
  /** Tokens per minute; undefined = not limited (429 pauses still apply). */
  tokensPerMinute?: number;
  /** The API's window; default one minute. */
  windowMs?: number;
  /**
   * Added to the window: a grant counts here a little longer than at the API, whose clock starts when the
   * request arrives, a few milliseconds after it was granted. Default 500 ms (0.8 % of a minute).
   */
  marginMs?: number;
  /** Longest single sleep while waiting, so that refunds by other processes are noticed; default 2 s. */
  maxSleepMs?: number;
}

interface ScriptedConnection {
  rateLimitAcquire(...args: (string | number)[]): Promise<[number, number]>;
  rateLimitRefund(...args: (string | number)[]): Promise<number>;
  rateLimitPause(...args: (string | number)[]): Promise<number>;
}

const KEY_COUNT = 5;

/**
 * A requests- and tokens-per-minute limiter shared through Redis by every process and host that uses the
 * same prefix and name. It keeps, per limit, the log of grants of the last window (a sorted set) and admits
 * a request only when the grants younger than a minute plus this one stay within the limit: the same
 * sliding window the API applies, so the whole limit is used, bursts included, without provoking 429s.
 * Each decision is one atomic Lua script on Redis's clock. All keys carry one hash tag, so they live in one
 * Redis Cluster slot.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly tokensPerMinute: number | undefined;
  readonly requestsPerMinute: number | undefined;
  /** The five keys, in the order the scripts expect. */
  readonly keys: readonly string[];
  private readonly redis: ScriptedConnection;
  private readonly windowMs: number;
  private readonly maxSleepMs: number;

  constructor(options: RedisRateLimiterOptions) {
    for (const [name, value] of [
      ['requestsPerMinute', options.requestsPerMinute],
      ['tokensPerMinute', options.tokensPerMinute],
    ] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    this.requestsPerMinute = options.requestsPerMinute;
    this.tokensPerMinute = options.tokensPerMinute;
    this.windowMs = (options.windowMs ?? 60_000) + (options.marginMs ?? 500);
    this.maxSleepMs = options.maxSleepMs ?? 2_000;
    const base = `${options.prefix}:{ratelimit:${options.name}}`;
    const log = options.lane === undefined ? base : `${base}:lane:${options.lane}`;
    this.keys = [`${log}:requests`, `${log}:requests:used`, `${log}:tokens`, `${log}:tokens:used`, `${base}:paused-until`];
    const connection = options.connection;
    // defineCommand loads each script once per connection (EVALSHA, EVAL on a miss); redefining is harmless.
    connection.defineCommand('rateLimitAcquire', { numberOfKeys: KEY_COUNT, lua: ACQUIRE_SCRIPT });
    connection.defineCommand('rateLimitRefund', { numberOfKeys: KEY_COUNT, lua: REFUND_SCRIPT });
    connection.defineCommand('rateLimitPause', { numberOfKeys: KEY_COUNT, lua: PAUSE_SCRIPT });
    this.redis = connection as unknown as ScriptedConnection;
  }

  async acquire(tokens: number, signal?: AbortSignal): Promise<RateLimitGrant> {
    if (!(Number.isInteger(tokens) && tokens >= 0)) throw new RangeError(`tokens must be a whole number >= 0, got ${tokens}`);
    if (this.tokensPerMinute !== undefined && tokens > this.tokensPerMinute) {
      throw new RangeError(`a request of ${tokens} tokens can never fit ${this.tokensPerMinute} tokens per minute`);
    }
    const id = randomUUID();
    const started = Date.now();
    for (;;) {
      signal?.throwIfAborted();
      const [granted, waitMs] = await this.redis.rateLimitAcquire(
        ...this.keys,
        this.windowMs,
        id,
        this.requestsPerMinute ?? 0,
        this.tokensPerMinute ?? 0,
        tokens,
      );
      if (granted === 1) return { id, tokens, waitedMs: Date.now() - started };
      await delay(Math.min(Math.max(1, waitMs), this.maxSleepMs), undefined, { signal });
    }
  }

  async refund(grant: RateLimitGrant): Promise<void> {
    await this.redis.rateLimitRefund(...this.keys, grant.id, grant.tokens);
  }

  async pause(ms: number): Promise<void> {
    const whole = Math.ceil(ms);
    if (!(whole > 0)) return;
    await this.redis.rateLimitPause(...this.keys, whole);
  }
}
