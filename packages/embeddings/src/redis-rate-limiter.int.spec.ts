import { Redis } from 'ioredis';
import { loadConfig } from '@catalog-indexer/config';
import { deleteRedisPrefix, uniqueName } from '@catalog-indexer/testing';
import { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter';

/** Windows of a fraction of a second stand for the API's minute, so the tests need not wait for one. */
const WINDOW_MS = 1_000;
/**
 * Below this, an acquisition did not wait for the window. A wait the limiter imposes here lasts about a
 * window, so half of one tells them apart; an acquisition that did not wait is one or two Redis round trips
 * (the first on a connection also connects and loads the script), which took over 300 ms on a loaded machine.
 */
const NO_WAIT_MS = WINDOW_MS / 2;

// Round trips to Redis on a busy machine: more than Jest's default 5 s per test.
jest.setTimeout(30_000);

describe(RedisRateLimiter.name, () => {
  const prefix = uniqueName('ratelimit');
  const connections: Redis[] = [];
  let name: string;

  /** A limiter on its own Redis connection, as another worker process would have. */
  const limiter = (options: Partial<RedisRateLimiterOptions> = {}): RedisRateLimiter => {
    const connection = new Redis(loadConfig().redis.url, { maxRetriesPerRequest: 1 });
    connections.push(connection);
    return new RedisRateLimiter({ connection, prefix, name, windowMs: WINDOW_MS, marginMs: 0, ...options });
  };

  beforeEach(() => {
    name = uniqueName('model');
  });

  afterAll(async () => {
    await deleteRedisPrefix(prefix);
    for (const c of connections) c.disconnect();
  });

  it('lets two processes share one token budget: the second waits until the first grant leaves the window', async () => {
    const a = limiter({ tokensPerMinute: 100 });
    const b = limiter({ tokensPerMinute: 100 });
    const first = await a.acquire(70);
    expect(first.waitedMs).toBeLessThan(NO_WAIT_MS);
    const started = Date.now();
    const second = await b.acquire(40);
    const waited = Date.now() - started;
    // 70 + 40 > 100: only once the 70 leave the window does the 40 fit.
    expect(waited).toBeGreaterThanOrEqual(WINDOW_MS - 60);
    expect(second.waitedMs).toBeGreaterThanOrEqual(WINDOW_MS - 60);
    // 40 of 100 in the window now: 60 more fit at once, from either process.
    const third = await a.acquire(60);
    expect(third.waitedMs).toBeLessThan(NO_WAIT_MS);
  });

  it('uses the whole budget at once, then no more than the limit in any window', async () => {
    const limiters = [limiter({ tokensPerMinute: 1_000, requestsPerMinute: 8 }), limiter({ tokensPerMinute: 1_000, requestsPerMinute: 8 })];
    const granted: { at: number; tokens: number }[] = [];
    const started = Date.now();
    // Four callers in two processes, each wanting 6 requests of 100 tokens: 2,400 tokens, 24 requests.
    await Promise.all(
      [0, 1, 2, 3].map(async (caller) => {
        const l = limiters[caller % 2]!;
        for (let i = 0; i < 6; i++) {
          await l.acquire(100);
          granted.push({ at: Date.now() - started, tokens: 100 });
        }
      }),
    );
    // 8 requests per window is the binding limit: the first 8 at once (not timid), then 8 per window.
    expect(granted.filter((g) => g.at < WINDOW_MS / 2)).toHaveLength(8);
    for (const g of granted) {
      const inWindow = granted.filter((h) => h.at >= g.at && h.at < g.at + WINDOW_MS - 50);
      expect(inWindow.length).toBeLessThanOrEqual(8);
      expect(inWindow.reduce((s, h) => s + h.tokens, 0)).toBeLessThanOrEqual(1_000);
    }
    // 24 requests at 8 per window: two full windows of waiting, not much more.
    const total = Math.max(...granted.map((g) => g.at));
    expect(total).toBeGreaterThanOrEqual(2 * WINDOW_MS - 60);
    expect(total).toBeLessThan(3 * WINDOW_MS);
  });

  it('pauses every process sharing it, and does not shorten a longer pause', async () => {
    const a = limiter();
    const b = limiter({ tokensPerMinute: 1_000_000 });
    await a.pause(800);
    await b.pause(50);
    const started = Date.now();
    await b.acquire(10);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    // Lifted: no wait now.
    expect((await a.acquire(10)).waitedMs).toBeLessThan(NO_WAIT_MS);
  });

  it('takes back a refunded grant, so that it no longer counts', async () => {
    const a = limiter({ tokensPerMinute: 100, requestsPerMinute: 1 });
    const b = limiter({ tokensPerMinute: 100, requestsPerMinute: 1 });
    const grant = await a.acquire(90);
    await a.refund(grant);
    expect((await b.acquire(90)).waitedMs).toBeLessThan(NO_WAIT_MS);
  });

  it('keeps no log of grants when it has no limits, only pauses', async () => {
    const a = limiter();
    for (let i = 0; i < 5; i++) expect((await a.acquire(1_000)).waitedMs).toBeLessThan(NO_WAIT_MS);
    expect(await connections[0]!.keys(`${prefix}:{ratelimit:${name}}:*`)).toEqual([]);
  });

  it('stops waiting when the caller aborts', async () => {
    const a = limiter({ tokensPerMinute: 100 });
    await a.acquire(100);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(a.acquire(50, controller.signal)).rejects.toThrow(/abort/i);
  });

  it('refuses a request that could never fit the token limit instead of waiting for ever', async () => {
    await expect(limiter({ tokensPerMinute: 100 }).acquire(101)).rejects.toThrow(RangeError);
  });

  it('keeps all its keys under the queue prefix and in one Redis Cluster hash slot', async () => {
    const a = limiter({ tokensPerMinute: 100, requestsPerMinute: 10 });
    await a.acquire(5);
    await a.pause(1_000);
    const tags = a.keys.map((k) => /\{([^}]*)\}/.exec(k)?.[1]);
    expect(new Set(tags).size).toBe(1);
    expect(tags[0]).toBe(`ratelimit:${name}`);
    for (const key of a.keys) expect(key.startsWith(`${prefix}:`)).toBe(true);
    const written = await connections[0]!.keys(`${prefix}:{ratelimit:${name}}:*`);
    expect(written.sort()).toEqual([...a.keys].sort());
    // With a prefix that is itself a hash tag (as Redis Cluster deployments set it), that tag decides.
    const tagged = new RedisRateLimiter({ connection: connections[0]!, prefix: '{cidx}', name: 'm' });
    expect(tagged.keys.every((k) => k.startsWith('{cidx}:'))).toBe(true);
  });
});
