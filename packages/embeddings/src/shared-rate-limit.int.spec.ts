import { Redis } from 'ioredis';
import { loadConfig, type Config } from '@catalog-indexer/config';
import { OpenAIEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { countTokens } from '@catalog-indexer/text';
import { deleteRedisPrefix, uniqueName, waitFor } from '@catalog-indexer/testing';
import { createEmbedder } from './create-embedder';
import { createRateLimiter } from './create-rate-limiter';
import { EmbeddingRequestError } from './embedding.error';
import { OpenAIEmbedder } from './openai.embedder';
import { RedisRateLimiter } from './redis-rate-limiter';

const API_KEY = 'sk-test-shared-limit-0123';
const MODEL = 'text-embedding-3-small';
const DIMENSIONS = 32;

/**
 * The emulator's clock runs this many times faster than the wall clock, so its one-minute window lasts
 * 60 / SPEED seconds; the limiters use the same window in real milliseconds.
 */
const SPEED = 15;
const WINDOW_MS = 60_000 / SPEED;

// Round trips on a busy machine: more than Jest's default 5 s per test.
jest.setTimeout(30_000);

const texts = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `${tag} column c${i} of table orders holds the customer revenue in cents`);

describe('a rate limit shared by several embedders through Redis', () => {
  const prefix = uniqueName('shared_limit');
  const connections: Redis[] = [];
  const t0 = Date.now();
  const emulator = new OpenAIEmulator({ apiKey: API_KEY, now: () => t0 + (Date.now() - t0) * SPEED });
  let baseUrl = '';
  let arrivals: { at: number; status: number; input: string[] }[] = [];

  const connection = (): Redis => {
    const c = new Redis(loadConfig().redis.url, { maxRetriesPerRequest: 1 });
    connections.push(c);
    return c;
  };

  /** One "worker process": its own Redis connection, limiter and embedder, all sharing `name`. */
  const worker = (name: string, limits: { tokensPerMinute?: number; requestsPerMinute?: number }, batchMaxTokens = 300) => {
    const limiter = new RedisRateLimiter({ connection: connection(), prefix, name, windowMs: WINDOW_MS, marginMs: 150, ...limits });
    const embedder = new OpenAIEmbedder({
      apiKey: API_KEY,
      baseUrl,
      model: MODEL,
      dimensions: DIMENSIONS,
      batchMaxTokens,
      maxRetries: 0,
      limiter,
    });
    return { limiter, embedder };
  };

  beforeAll(async () => {
    baseUrl = `${(await emulator.start(0)).url}/v1`;
    emulator.onExchange((e) => {
      if (e.path === '/v1/embeddings') arrivals.push({ at: Date.now(), status: e.status, input: (e.requestBody as { input: string[] }).input });
    });
  });

  beforeEach(() => {
    emulator.reset();
    arrivals = [];
  });

  afterAll(async () => {
    await emulator.stop();
    await deleteRedisPrefix(prefix);
    for (const c of connections) c.disconnect();
  });

  it('keeps two processes within the API tokens per minute while using all of it', async () => {
    const name = uniqueName('tpm');
    const limit = 1_300;
    emulator.configure({ tokensPerMinute: limit });
    const a = worker(name, { tokensPerMinute: limit });
    const b = worker(name, { tokensPerMinute: limit });
    const mine = texts(120, 'a');
    const theirs = texts(120, 'b');
    const total = [...mine, ...theirs].reduce((s, t) => s + countTokens(t), 0);
    // 2.4 to 2.9 minutes' worth: a full first window, a full second one, and part of a third.
    expect(total / limit).toBeGreaterThan(2.2);
    expect(total / limit).toBeLessThan(3);
    const started = Date.now();
    const [ra, rb] = await Promise.all([a.embedder.embed(mine), b.embedder.embed(theirs)]);
    const elapsed = Date.now() - started;
    expect(ra.vectors).toHaveLength(mine.length);
    expect(rb.vectors).toHaveLength(theirs.length);
    expect(ra.tokens + rb.tokens).toBe(total);
    // Honoured: the API refused (almost) nothing. The run crosses two window boundaries, and at each the
    // limiter's window and the API's may disagree by the time a request takes to arrive: one 429 at most
    // at each (a limiter that did not share the budget would see dozens).
    expect(emulator.stats.rateLimited).toBeLessThanOrEqual(2);
    expect(emulator.stats.tokens).toBe(total);
    // Honoured: the third window is reached. Not timid: the whole limit is used at once, as the API allows,
    // and the run ends within the third window, or one window later for each 429 (a 429 pauses every
    // process for its retry-after, at most a window).
    expect(elapsed).toBeGreaterThanOrEqual(2 * WINDOW_MS - 100);
    expect(elapsed).toBeLessThan((3 + emulator.stats.rateLimited) * WINDOW_MS);
    const tokensOf = (xs: typeof arrivals) => xs.reduce((s, x) => s + x.input.reduce((t, text) => t + countTokens(text), 0), 0);
    expect(tokensOf(arrivals.filter((x) => x.status === 200 && x.at - started < WINDOW_MS))).toBeGreaterThanOrEqual(0.9 * limit);
    // Both processes got their share of the budget: neither waited for the other to finish.
    const firstWindow = arrivals.filter((x) => x.at - started < WINDOW_MS / 2);
    expect(firstWindow.some((x) => x.input[0]!.startsWith('a '))).toBe(true);
    expect(firstWindow.some((x) => x.input[0]!.startsWith('b '))).toBe(true);
  }, 30_000);

  it('pauses every process for the retry-after of a 429 that one of them got', async () => {
    const name = uniqueName('pause');
    const a = worker(name, {});
    const b = worker(name, {});
    emulator.failNext({ count: 1, status: 429, retryAfterMs: 800 });
    const first = a.embedder.embed(['orders placed by customers']);
    // Once A has seen the 429 and paused the shared limiter, B starts.
    await waitFor('the shared pause', async () => (await connections[0]!.exists(a.limiter.keys[4]!)) === 1, { intervalMs: 5 });
    const limitedAt = arrivals.find((x) => x.status === 429)!.at;
    const second = b.embedder.embed(['customer email address']);
    const [ra, rb] = await Promise.all([first, second]);
    expect(emulator.stats).toMatchObject({ requests: 3, rateLimited: 1, succeeded: 2 });
    // Neither sent anything while the pause lasted; A sent again without failing.
    const after = arrivals.filter((x) => x.status === 200);
    expect(after).toHaveLength(2);
    for (const x of after) expect(x.at - limitedAt).toBeGreaterThanOrEqual(750);
    expect(ra.stats).toMatchObject({ requests: 2, rateLimited: 1, retries: 0 });
    expect(rb.stats).toMatchObject({ requests: 1, rateLimited: 0 });
    expect(rb.stats!.waitedMs).toBeGreaterThan(500);
  });

  it('sends no request larger than one minute of the token limit', async () => {
    const { embedder } = worker(uniqueName('cap'), { tokensPerMinute: 100 }, 100_000);
    const all = texts(12, 'c');
    const result = await embedder.embed(all);
    expect(result.vectors).toHaveLength(12);
    expect(arrivals.length).toBeGreaterThanOrEqual(2);
    for (const x of arrivals) expect(x.input.reduce((s, t) => s + countTokens(t), 0)).toBeLessThanOrEqual(100);
  }, 30_000);

  it('fails for good on a request that is over the API tokens per minute on its own', async () => {
    emulator.configure({ tokensPerMinute: 5 });
    // No client-side limit, so the request is sent and refused: retrying could never help.
    const { embedder } = worker(uniqueName('too_large'), {});
    const error: unknown = await embedder.embed(['one two three four five six seven eight nine ten']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ status: 429, permanent: true });
    expect(emulator.stats.requests).toBe(1);
  });
});

describe(createRateLimiter.name, () => {
  const prefix = uniqueName('create_limit');
  const logger = createLogger({ level: 'silent' });
  const emulator = new OpenAIEmulator({ apiKey: API_KEY });
  const redis = new Redis(loadConfig().redis.url, { maxRetriesPerRequest: 1 });
  let config: Config['embeddings'];

  beforeAll(async () => {
    const { url } = await emulator.start(0);
    config = {
      ...loadConfig({ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: `${url}/v1`, EMBEDDING_MODEL: MODEL, EMBEDDING_DIMENSIONS: String(DIMENSIONS) }).embeddings,
      tokensPerMinute: 40,
      requestsPerMinute: 100,
      encoding: 'float',
    };
  });

  afterAll(async () => {
    await emulator.stop();
    await deleteRedisPrefix(prefix);
    redis.disconnect();
  });

  it('builds the limiter from EMBEDDING_RPM and EMBEDDING_TPM, and the embedder sends within it', async () => {
    const limiter = createRateLimiter(config, { connection: redis, prefix })!;
    expect(limiter).toBeInstanceOf(RedisRateLimiter);
    // The workers' part: what QUERY_EMBEDDING_SHARE (0.1) leaves of 40 tokens and 100 requests.
    expect(limiter).toMatchObject({ tokensPerMinute: 36, requestsPerMinute: 90 });
    expect(limiter.keys[0]).toBe(`${prefix}:{ratelimit:embeddings:${MODEL}}:requests`);
    const embedder = createEmbedder(config, logger, { limiter });
    const result = await embedder.embed(texts(2, 'x'));
    expect(result.vectors).toHaveLength(2);
    // What was sent was granted first: one request, its tokens, in the shared log.
    expect(Number(await redis.get(limiter.keys[1]!))).toBe(emulator.stats.requests);
    expect(Number(await redis.get(limiter.keys[3]!))).toBe(result.tokens);
  });

  it('makes no limiter for the local embedder', () => {
    expect(createRateLimiter({ ...config, provider: 'local', apiKey: undefined }, { connection: redis, prefix })).toBeUndefined();
  });
});
