import { Redis } from 'ioredis';
import { loadConfig, type Config } from '@catalog-indexer/config';
import { OpenAIEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { deleteRedisPrefix, uniqueName } from '@catalog-indexer/testing';
import { createEmbedder } from './create-embedder';
import { createRateLimiter, queryPart } from './create-rate-limiter';
import { type RedisRateLimiter } from './redis-rate-limiter';

const API_KEY = 'sk-test-query-share-0123';
const MODEL = 'text-embedding-3-small';
/**
 * Below this, an acquisition did not wait for the window: a window is a minute, so anything shorter is
 * Redis round trips, slow on a loaded machine.
 */
const NO_WAIT_MS = 4_000;
/** How long a caller that should be held is watched: still waiting then means waiting for the minute's window. */
const HELD_MS = 4_000;

jest.setTimeout(60_000);

describe(queryPart.name, () => {
  it('is the share of a limit, rounded, at least 1 and never all of it', () => {
    expect(queryPart(3000, 0.1)).toBe(300);
    expect(queryPart(10, 0.2)).toBe(2);
    expect(queryPart(3, 0.1)).toBe(1);
    expect(queryPart(2, 0.9)).toBe(1);
  });
});

/**
 * The query service and the workers take their requests from one limiter in Redis, each from its own part
 * of the budget: with the real one-minute window, a side that used its part is held (for the rest of the
 * minute) while the other still goes at once.
 */
describe('the query share of the shared embedding rate limit', () => {
  const prefix = uniqueName('query_share');
  const connections: Redis[] = [];
  const logger = createLogger({ level: 'silent' });
  const emulator = new OpenAIEmulator({ apiKey: API_KEY });
  let config: Config['embeddings'];

  const connection = (): Redis => {
    const c = new Redis(loadConfig().redis.url, { maxRetriesPerRequest: 1 });
    connections.push(c);
    return c;
  };
  /**
   * A limiter of `role` on a connection of its own, as a separate process would have, for a model of its
   * own; connected before it is timed.
   */
  const limiter = async (role: 'workers' | 'query', model: string, limits: Partial<Config['embeddings']> = {}): Promise<RedisRateLimiter> => {
    const c = connection();
    await c.ping();
    return createRateLimiter({ ...config, model, ...limits }, { connection: c, prefix }, role)!;
  };
  /** Whether `acquire(tokens)` is still waiting after {@link HELD_MS}. */
  const held = async (l: RedisRateLimiter, tokens = 1): Promise<boolean> => {
    const signal = AbortSignal.timeout(HELD_MS);
    return l.acquire(tokens, signal).then(
      () => false,
      (error: unknown) => {
        if (signal.aborted) return true;
        throw error;
      },
    );
  };
  const quick = async (l: RedisRateLimiter, tokens = 1): Promise<void> => {
    expect((await l.acquire(tokens)).waitedMs).toBeLessThan(NO_WAIT_MS);
  };

  beforeAll(async () => {
    const { url } = await emulator.start(0);
    config = {
      ...loadConfig({ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: `${url}/v1`, EMBEDDING_MODEL: MODEL, EMBEDDING_DIMENSIONS: '16' }).embeddings,
      encoding: 'float',
      queryShare: 0.2,
    };
  });

  afterAll(async () => {
    await emulator.stop();
    await deleteRedisPrefix(prefix);
    for (const c of connections) c.disconnect();
  });

  it('splits each limit: the query gets its share in a window of its own, the workers the rest', async () => {
    const model = uniqueName('split');
    const workers = await limiter('workers', model, { requestsPerMinute: 10, tokensPerMinute: 1_000 });
    const query = await limiter('query', model, { requestsPerMinute: 10, tokensPerMinute: 1_000 });
    expect(workers).toMatchObject({ requestsPerMinute: 8, tokensPerMinute: 800 });
    expect(query).toMatchObject({ requestsPerMinute: 2, tokensPerMinute: 200 });
    // Own logs, one shared pause key, all in one Redis Cluster slot.
    expect(query.keys.slice(0, 4).some((k) => workers.keys.includes(k))).toBe(false);
    expect(query.keys[4]).toBe(workers.keys[4]);
    expect(new Set([...query.keys, ...workers.keys].map((k) => /\{[^}]*\}/.exec(k)?.[0])).size).toBe(1);
  });

  it('lets questions through at once while workers have used up their part of the minute', async () => {
    const model = uniqueName('saturated');
    const workers = [await limiter('workers', model, { requestsPerMinute: 10 }), await limiter('workers', model, { requestsPerMinute: 10 })];
    const query = await limiter('query', model, { requestsPerMinute: 10 });
    // Two worker processes take all 8 requests of theirs; a ninth waits for the window.
    for (let i = 0; i < 8; i++) await quick(workers[i % 2]!);
    expect(await held(workers[0]!)).toBe(true);
    // The query's 2 still go at once.
    await quick(query);
    await quick(query);
  });

  it('holds questions beyond their share, and the workers keep their whole part', async () => {
    const model = uniqueName('greedy');
    const query = await limiter('query', model, { requestsPerMinute: 10, tokensPerMinute: 1_000 });
    const workers = await limiter('workers', model, { requestsPerMinute: 10, tokensPerMinute: 1_000 });
    await quick(query, 100);
    await quick(query, 100);
    // A third question would exceed 2 requests (and 200 tokens): held, though the minute has 8 requests left.
    expect(await held(query, 1)).toBe(true);
    // Questions took nothing from the workers' part: all 8 requests and 800 tokens go at once.
    for (let i = 0; i < 8; i++) await quick(workers, 100);
    expect(await held(workers, 1)).toBe(true);
  });

  it('pauses questions too when the API answers 429 to a worker', async () => {
    const model = uniqueName('paused');
    const workers = await limiter('workers', model, { requestsPerMinute: 100 });
    const query = await limiter('query', model, { requestsPerMinute: 100 });
    await workers.pause(20_000);
    expect(await held(query)).toBe(true);
  });

  it('embeds a question through the query part while the workers are held', async () => {
    const model = MODEL;
    const limits = { requestsPerMinute: 5, tokensPerMinute: 100_000 };
    const workers = await limiter('workers', model, limits);
    const query = await limiter('query', model, limits);
    for (let i = 0; i < 4; i++) await quick(workers);
    const embedder = createEmbedder({ ...config, ...limits }, logger, { limiter: query });
    const before = emulator.stats.requests;
    const result = await embedder.embed(['which customers ordered last week']);
    expect(result.vectors).toHaveLength(1);
    expect(result.stats?.waitedMs).toBeLessThan(NO_WAIT_MS);
    expect(emulator.stats.requests - before).toBe(1);
    // Its grant is in the query's log, not the workers'.
    expect(Number(await connections[0]!.get(query.keys[1]!))).toBe(1);
    expect(Number(await connections[0]!.get(workers.keys[1]!))).toBe(4);
    expect(await held(workers)).toBe(true);
  });
});
