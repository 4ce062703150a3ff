import OpenAI from 'openai';
import { type Config } from '@catalog-indexer/config';
import { OpenAIEmulator, type Exchange } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { configuredIdentity, createEmbedder } from './create-embedder';
import { identityName } from './embedder';
import { EmbeddingRequestError } from './embedding.error';
import { hashingVector } from '@catalog-indexer/text';
import { LocalEmbedder } from './local.embedder';
import { OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai.embedder';
import { countTokens } from '@catalog-indexer/text';

// Retries and 429 waits on a busy machine: more than Jest's default 5 s per test.
jest.setTimeout(30_000);

const API_KEY = 'sk-test-embedder-0123456789';
const MODEL = 'text-embedding-3-small';
const DIMENSIONS = 64;

/** What the emulator answers for `text`: its hashing vector as float32 values. */
const expectedVector = (text: string): number[] => hashingVector(text, DIMENSIONS).map((v) => Math.fround(v));

/** Column descriptions of varied length, like the chunks the pipeline embeds. */
const columnTexts = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `column c${i} of table orders ${'holds the customer revenue '.repeat(i % 5)}(${i})`);

interface EmbeddingsBody {
  input: string[];
  model: string;
  encoding_format?: string;
  dimensions?: number;
}

describe(OpenAIEmbedder.name, () => {
  // The emulator's clock can be moved on, so a rate-limit window closes in a second instead of a minute.
  let clockSkewMs = 0;
  const emulator = new OpenAIEmulator({ apiKey: API_KEY, now: () => Date.now() + clockSkewMs });
  let baseUrl: string;
  let exchanges: Exchange[] = [];

  const bodies = (): EmbeddingsBody[] => exchanges.map((e) => e.requestBody as EmbeddingsBody);
  const embedder = (options: Partial<OpenAIEmbedderOptions> = {}): OpenAIEmbedder =>
    new OpenAIEmbedder({ apiKey: API_KEY, baseUrl, model: MODEL, dimensions: DIMENSIONS, maxRetries: 2, retryBaseMs: 20, ...options });

  beforeAll(async () => {
    const { url } = await emulator.start(0);
    baseUrl = `${url}/v1`;
    emulator.onExchange((e) => {
      if (e.path === '/v1/embeddings') exchanges.push(e);
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(() => {
    emulator.reset();
    clockSkewMs = 0;
    exchanges = [];
  });

  it.each(['base64', 'float'] as const)(
    'returns a vector of the configured size per text, in input order, with the tokens used (%s encoding)',
    async (encoding) => {
      const texts = ['orders placed by customers', 'customer email address', 'orders placed by customers', 'product price in cents'];
      const result = await embedder({ encoding }).embed(texts);

      expect(result.vectors).toHaveLength(texts.length);
      for (const v of result.vectors) expect(v).toHaveLength(DIMENSIONS);
      // base64 is decoded straight into float32 values; `float` answers are JSON lists of numbers.
      for (const v of result.vectors) expect(v instanceof Float32Array).toBe(encoding === 'base64');
      // Vectors are the emulator's hashing vectors of each text, so a mix-up of positions shows here.
      result.vectors.forEach((v, i) => expect(Array.from(v)).toEqual(expectedVector(texts[i]!)));
      expect(Array.from(result.vectors[2]!)).toEqual(Array.from(result.vectors[0]!));
      expect(Array.from(result.vectors[1]!)).not.toEqual(Array.from(result.vectors[0]!));
      expect(result.tokens).toBe(texts.reduce((s, t) => s + countTokens(t), 0));

      // The encoding is always sent: the SDK then hands base64 back undecoded, and `float` suits servers that ignore the field.
      expect(bodies()).toHaveLength(1);
      expect(bodies()[0]).toMatchObject({ model: MODEL, dimensions: DIMENSIONS, encoding_format: encoding });
    },
  );

  it('splits many texts into several requests within the input and token limits, keeping the order', async () => {
    const texts = columnTexts(40);
    const limits = { batchMaxInputs: 6, batchMaxTokens: 80 };
    const result = await embedder(limits).embed(texts);

    expect(exchanges.length).toBeGreaterThanOrEqual(Math.ceil(texts.length / limits.batchMaxInputs));
    expect(exchanges.every((e) => e.status === 200)).toBe(true);
    for (const body of bodies()) {
      expect(body.input.length).toBeLessThanOrEqual(limits.batchMaxInputs);
      expect(body.input.reduce((s, t) => s + countTokens(t), 0)).toBeLessThanOrEqual(limits.batchMaxTokens);
    }
    expect(bodies().flatMap((b) => b.input)).toEqual(texts);
    expect(result.vectors.map((v) => Array.from(v))).toEqual(texts.map(expectedVector));
    expect(result.tokens).toBe(emulator.stats.tokens);
  });

  it('packs requests by the token counts it is handed, and counts a text itself where none is given or the count is over an input\'s limit', async () => {
    const texts = columnTexts(12);
    const counts = texts.map((t) => countTokens(t));
    const limits = { batchMaxInputs: 100, batchMaxTokens: 60 };
    const packed = async (given?: readonly (number | null)[]) => {
      exchanges = [];
      const result = await embedder(limits).embed(texts, undefined, given);
      expect(result.vectors.map((v) => Array.from(v))).toEqual(texts.map(expectedVector));
      return bodies().map((b) => b.input.length);
    };
    const counted = await packed();
    expect(counted.length).toBeGreaterThan(1);
    // The true counts, handed over: the same requests as when counted here.
    expect(await packed(counts)).toEqual(counted);
    // Counts are trusted as given (the plan took them with the same tokenizer): one token each fits one request.
    expect(await packed(texts.map(() => 1))).toEqual([texts.length]);
    // Where a count is missing, the text is counted; a count over an input's limit is not taken either.
    expect(await packed(texts.map((_, i) => (i % 2 === 0 ? 1 : null)))).not.toEqual([texts.length]);
    const long = 'customer order revenue '.repeat(100);
    exchanges = [];
    await embedder(limits).embed([long], undefined, [10_000]);
    expect(countTokens(bodies()[0]!.input[0]!)).toBeLessThanOrEqual(limits.batchMaxTokens);
  });

  it('cuts an input longer than the request budget so that no request exceeds it', async () => {
    const long = 'customer order revenue '.repeat(100);
    const result = await embedder({ batchMaxTokens: 50 }).embed([long, 'short text']);

    expect(result.vectors).toHaveLength(2);
    for (const body of bodies()) expect(body.input.reduce((s, t) => s + countTokens(t), 0)).toBeLessThanOrEqual(50);
  });

  it('truncates an input over 8191 tokens and embeds it instead of sending it to fail', async () => {
    const long = 'customer order revenue '.repeat(4000);
    const emoji = 'ab😀c🎉 '.repeat(4000);
    expect(countTokens(long)).toBeGreaterThan(8191);
    expect(countTokens(emoji)).toBeGreaterThan(8191);

    // The emoji text first: a cut inside a character must not leak into the next text cut.
    const texts = [emoji, 'orders', long];
    const result = await embedder().embed(texts);

    expect(emulator.stats).toMatchObject({ failed: 0, succeeded: exchanges.length, inputs: 3 });
    expect(result.vectors.map((v) => v.length)).toEqual([DIMENSIONS, DIMENSIONS, DIMENSIONS]);
    const sent = bodies().flatMap((b) => b.input);
    expect(sent).toHaveLength(3);
    for (const [i, original] of texts.entries()) {
      expect(countTokens(sent[i]!)).toBeLessThanOrEqual(8191);
      // A prefix of the text: no replacement character from a multi-byte character cut in half.
      expect(original.startsWith(sent[i]!)).toBe(true);
    }
    expect(sent[2]!.length).toBeLessThan(long.length);
    expect(countTokens(sent[2]!)).toBeGreaterThan(8000);
    expect(Array.from(result.vectors[1]!)).toEqual(expectedVector('orders'));
  });

  it('embeds empty and blank texts without making the request fail', async () => {
    const result = await embedder().embed(['', '   ', 'orders', '\n\t']);

    expect(result.vectors.map((v) => v.length)).toEqual([DIMENSIONS, DIMENSIONS, DIMENSIONS, DIMENSIONS]);
    expect(Array.from(result.vectors[2]!)).toEqual(expectedVector('orders'));
    expect(emulator.stats).toMatchObject({ requests: 1, succeeded: 1, failed: 0 });
    expect(bodies()[0]!.input.every((t) => t.length > 0)).toBe(true);
  });

  it('embeds text that contains special-token strings as ordinary text', async () => {
    const texts = ['column note: stream ends at <|endoftext|>', 'orders'];
    const result = await embedder().embed(texts);

    expect(result.vectors.map((v) => Array.from(v))).toEqual(texts.map(expectedVector));
    expect(bodies()[0]!.input).toEqual(texts);
  });

  it('returns nothing and calls nothing for no texts', async () => {
    await expect(embedder().embed([])).resolves.toMatchObject({ vectors: [], tokens: 0, stats: { requests: 0 } });
    expect(emulator.stats.requests).toBe(0);
  });

  it('waits out a 429 rate limit as retry-after says and completes', async () => {
    const e = embedder();
    const first = columnTexts(4);
    const second = columnTexts(8).slice(4);
    const firstTokens = first.reduce((s, t) => s + countTokens(t), 0);
    const secondTokens = second.reduce((s, t) => s + countTokens(t), 0);
    // Room for either request alone, not for both in one minute.
    emulator.configure({ tokensPerMinute: Math.max(firstTokens, secondTokens) + 1 });
    expect(firstTokens + secondTokens).toBeGreaterThan(emulator.config.tokensPerMinute!);

    await e.embed(first);
    // 59 s later on the emulator's clock: the first request leaves the window about a second from now.
    clockSkewMs = 59_000;
    const result = await e.embed(second);

    expect(emulator.stats.rateLimited).toBeGreaterThanOrEqual(1);
    expect(result.vectors.map((v) => Array.from(v))).toEqual(second.map(expectedVector));
    const limited = exchanges.find((x) => x.status === 429)!;
    expect(limited.responseHeaders['retry-after']).toBeDefined();
    expect((limited.responseBody as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect(exchanges[exchanges.length - 1]!.status).toBe(200);
    expect(Number(exchanges[exchanges.length - 1]!.requestHeaders['x-stainless-retry-count'])).toBeGreaterThanOrEqual(1);
  });

  it('retries 503 overloaded answers and succeeds', async () => {
    emulator.failNext({ count: 2, status: 503 });
    const texts = ['orders', 'customers'];
    const result = await embedder({ maxRetries: 2 }).embed(texts);

    expect(result.vectors.map((v) => Array.from(v))).toEqual(texts.map(expectedVector));
    expect(emulator.stats).toMatchObject({ requests: 3, failed: 2, succeeded: 1 });
    expect(exchanges.map((x) => x.status)).toEqual([503, 503, 200]);
    expect(exchanges.map((x) => x.requestHeaders['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
  });

  it('keeps sending after more 429s than it has retries, without counting them as failures', async () => {
    emulator.failNext({ count: 4, status: 429, retryAfterMs: 30 });
    const result = await embedder({ maxRetries: 1 }).embed(['orders']);
    expect(result.vectors.map((v) => Array.from(v))).toEqual([expectedVector('orders')]);
    expect(exchanges.map((x) => x.status)).toEqual([429, 429, 429, 429, 200]);
    expect(result.stats).toMatchObject({ requests: 5, rateLimited: 4, retries: 0 });
    expect(result.stats!.waitedMs).toBeGreaterThanOrEqual(4 * 25);
  });

  it('gives up after the 429s it was told to wait out, with the API error', async () => {
    emulator.failNext({ count: 3, status: 429, retryAfterMs: 10 });
    const error: unknown = await embedder({ maxRateLimitWaits: 2 }).embed(['orders']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).not.toBeInstanceOf(EmbeddingRequestError);
    expect(exchanges.map((x) => x.status)).toEqual([429, 429, 429]);
  });

  it('backs off exponentially up to a cap between retries of 5xx answers', async () => {
    const e = embedder({ maxRetries: 6, retryBaseMs: 20, retryMaxMs: 80 });
    // Loaded and connected first: only the waits between retries are timed.
    await e.embed(['customers']);
    emulator.failNext({ count: 6, status: 500 });
    const started = Date.now();
    const result = await e.embed(['orders']);
    const elapsed = Date.now() - started;
    // 20, 40, 80, 80, 80, 80 ms (each less up to a quarter of jitter): 285 to 380 ms; uncapped it would be
    // 1,260 ms (the slack above is for a busy machine).
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_000);
    expect(result.stats).toMatchObject({ requests: 7, retries: 6, rateLimited: 0 });
    expect(e.stats).toMatchObject({ requests: 8, retries: 6 });
  });

  it('throws the server error, not a permanent one, when retries run out', async () => {
    emulator.failNext({ count: 10, status: 503 });
    const error: unknown = await embedder({ maxRetries: 1 }).embed(['orders']).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).not.toBeInstanceOf(EmbeddingRequestError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(emulator.stats.requests).toBe(2);
  });

  it.each([
    { refusal: 'a wrong API key', options: { apiKey: 'sk-wrong-key-9876543210' }, status: 401, hint: 'OPENAI_API_KEY' },
    { refusal: 'an unknown model', options: { model: 'text-embedding-9-huge' }, status: 404, hint: 'EMBEDDING_MODEL' },
    { refusal: 'dimensions for a model without them', options: { model: 'text-embedding-ada-002', sendDimensions: true }, status: 400, hint: '' },
  ])('fails at once with EmbeddingRequestError on $refusal ($status)', async ({ options, status, hint }) => {
    const error: unknown = await embedder(options).embed(['orders']).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ status, permanent: true, code: 'embedding_request_failed' });
    expect((error as Error).message).toContain(hint);
    expect(emulator.stats.requests).toBe(1);
  });

  it('fails at once with EmbeddingRequestError when the quota is exhausted', async () => {
    emulator.setInsufficientQuota(true);
    const error: unknown = await embedder({ maxRetries: 2 }).embed(['orders']).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ status: 429, apiCode: 'insufficient_quota' });
    expect(emulator.stats.requests).toBe(1);
  });

  it('refuses vectors of another size than configured', async () => {
    // Without `dimensions` the server answers the model's full 1536 while the embedder expects 64.
    const error: unknown = await embedder({ sendDimensions: false }).embed(['orders']).catch((x: unknown) => x);

    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect((error as Error).message).toMatch(/returned vectors of 1536 dimensions, expected 64: check EMBEDDING_DIMENSIONS/);
  });
});

describe(createEmbedder.name, () => {
  const logger = createLogger({ level: 'silent' });
  const emulator = new OpenAIEmulator({ apiKey: API_KEY });
  let url: string;
  const config = (overrides: Partial<Config['embeddings']>): Config['embeddings'] => ({
    provider: 'openai',
    apiKey: API_KEY,
    baseUrl: `${url}/v1`,
    model: MODEL,
    dimensions: DIMENSIONS,
    encoding: 'float',
    batchMaxTokens: 100_000,
    batchMaxInputs: 2,
    maxRetries: 0,
    timeoutMs: 10_000,
    requestsPerMinute: undefined,
    tokensPerMinute: undefined,
    queryShare: 0.1,
    ...overrides,
  });

  beforeAll(async () => {
    ({ url } = await emulator.start(0));
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('embeds through the configured OpenAI-compatible server when a key is set', async () => {
    const e = createEmbedder(config({}), logger);
    const result = await e.embed(['orders', 'customers', 'products']);

    expect(e).toBeInstanceOf(OpenAIEmbedder);
    expect(result.vectors).toEqual(['orders', 'customers', 'products'].map(expectedVector));
    // batchMaxInputs 2 from the configuration: two requests.
    expect(emulator.stats).toMatchObject({ requests: 2, inputs: 3 });
  });

  it('falls back to the local embedder without a key, under its own identity', async () => {
    const e = createEmbedder(config({ provider: 'local', apiKey: undefined }), logger);

    expect(e).toBeInstanceOf(LocalEmbedder);
    expect(e).toMatchObject({ provider: 'local', model: 'hashing-v1', dimensions: DIMENSIONS });
    expect(identityName(e)).toBe(`local/hashing-v1@${DIMENSIONS}`);
    expect(configuredIdentity(config({ provider: 'local', apiKey: undefined }))).toEqual({ provider: 'local', model: 'hashing-v1', dimensions: DIMENSIONS });
    expect((await e.embed(['orders'])).vectors[0]).toEqual(hashingVector('orders', DIMENSIONS));
  });

  it('names the OpenAI model as the OpenAI provider\'s', () => {
    const e = createEmbedder(config({}), logger);
    expect(identityName(e)).toBe(`openai/${MODEL}@${DIMENSIONS}`);
    expect(configuredIdentity(config({}))).toEqual({ provider: 'openai', model: MODEL, dimensions: DIMENSIONS });
  });

  it('embeds in a given identity, and never serves an OpenAI identity with the local embedder', () => {
    const local = createEmbedder(config({}), logger, { identity: { provider: 'local', model: 'hashing-v1', dimensions: 8 } });
    expect(local).toBeInstanceOf(LocalEmbedder);
    expect(local.dimensions).toBe(8);
    const keyless = config({ provider: 'local', apiKey: undefined });
    expect(() => createEmbedder(keyless, logger, { identity: { provider: 'openai', model: MODEL, dimensions: DIMENSIONS } })).toThrow(
      /holds vectors of openai\/.*: set OPENAI_API_KEY/,
    );
    expect(() => createEmbedder(keyless, logger, { identity: { provider: 'local', model: 'hashing-v9', dimensions: 8 } })).toThrow(EmbeddingRequestError);
  });
});
