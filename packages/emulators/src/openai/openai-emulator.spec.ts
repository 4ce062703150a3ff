import { hashingVector } from '@catalog-indexer/text';
import { decodeBase64Embedding, toFloat32 } from './embedding-encoding';
import { OpenAIEmulator } from './openai-emulator';

/** Parsed JSON of a response; loosely typed so assertions can reach into it. */
type Json = ReturnType<typeof JSON.parse>;

describe(OpenAIEmulator.name, () => {
  let now = 1_000_000;
  const emulator = new OpenAIEmulator({ apiKey: 'sk-test-key', now: () => now });
  let url = '';

  const embed = async (body: unknown, key = 'sk-test-key'): Promise<{ status: number; body: Json; headers: Headers }> => {
    const res = await fetch(`${url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json(), headers: res.headers };
  };

  beforeAll(async () => {
    url = (await emulator.start()).url;
  });
  afterEach(() => emulator.reset());
  afterAll(() => emulator.stop());

  it('returns hashing vectors as float32 numbers with exact cl100k token usage', async () => {
    const res = await embed({ model: 'text-embedding-3-small', input: ['hello world', 'sales orders'], encoding_format: 'float' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'list', model: 'text-embedding-3-small', usage: { prompt_tokens: 4, total_tokens: 4 } });
    expect(res.body.data[0]).toEqual({ object: 'embedding', index: 0, embedding: toFloat32(hashingVector('hello world', 1536)) });
  });

  it('returns the same vectors base64-encoded when asked', async () => {
    const float = await embed({ model: 'text-embedding-3-large', input: 'orders', dimensions: 64, encoding_format: 'float' });
    const base64 = await embed({ model: 'text-embedding-3-large', input: 'orders', dimensions: 64, encoding_format: 'base64' });
    expect(typeof base64.body.data[0].embedding).toBe('string');
    expect(decodeBase64Embedding(base64.body.data[0].embedding)).toEqual(float.body.data[0].embedding);
  });

  it('requires the bearer key', async () => {
    const wrong = await embed({ model: 'text-embedding-3-small', input: 'x' }, 'sk-wrong-key-123');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' });
    expect(wrong.body.error.message).not.toContain('sk-wrong-key-123');
    expect((await embed({ model: 'text-embedding-3-small', input: 'x' }, '')).status).toBe(401);
  });

  it('answers malformed JSON with an OpenAI-shaped 400', async () => {
    const res = await embed('{"model":');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
  });

  it('answers 429 rate_limit_exceeded with retry headers once the tokens per minute are spent', async () => {
    emulator.configure({ tokensPerMinute: 10 });
    const first = await embed({ model: 'text-embedding-3-small', input: 'one two three four five six seven eight' });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('10');
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe('2');
    expect(first.headers.get('x-ratelimit-reset-tokens')).toBe('1m0s');
    now += 15_000;
    const limited = await embed({ model: 'text-embedding-3-small', input: 'one two three' });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded', param: null });
    expect(limited.headers.get('retry-after')).toBe('45');
    expect(limited.headers.get('retry-after-ms')).toBe('45000');
    now += 45_000;
    expect((await embed({ model: 'text-embedding-3-small', input: 'one two three' })).status).toBe(200);
    expect(emulator.stats).toMatchObject({ requests: 3, succeeded: 2, rateLimited: 1 });
  });

  it('limits requests per minute too', async () => {
    emulator.configure({ requestsPerMinute: 1 });
    expect((await embed({ model: 'text-embedding-3-small', input: 'x' })).status).toBe(200);
    const limited = await embed({ model: 'text-embedding-3-small', input: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.body.error.type).toBe('requests');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  it('answers injected failures, then recovers', async () => {
    emulator.failNext({ count: 1 });
    const failed = await embed({ model: 'text-embedding-3-small', input: 'x' });
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('server_is_overloaded');
    expect((await embed({ model: 'text-embedding-3-small', input: 'x' })).status).toBe(200);
  });

  it('answers insufficient_quota with a 429 marked not retryable', async () => {
    emulator.setInsufficientQuota(true);
    const res = await embed({ model: 'text-embedding-3-small', input: 'x' });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('insufficient_quota');
    expect(res.headers.get('x-should-retry')).toBe('false');
  });

  it('takes switches through the control endpoint and reports stats', async () => {
    const configured = await fetch(`${url}/__emulator/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 100, failNext: { count: 1, status: 500 } }),
    });
    expect(((await configured.json()) as { config: unknown }).config).toMatchObject({ latencyMs: 100 });
    const started = Date.now();
    expect((await embed({ model: 'text-embedding-3-small', input: 'x' })).status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const stats = (await (await fetch(`${url}/__emulator/stats`)).json()) as Record<string, number>;
    expect(stats).toMatchObject({ requests: 1, failed: 1, succeeded: 0, inputs: 0, tokens: 0 });
  });

  it('counts inputs and tokens of successful requests only', async () => {
    await embed({ model: 'text-embedding-3-small', input: ['a b', 'c'] });
    await embed({ model: 'nope', input: 'x' });
    expect(emulator.stats).toMatchObject({ requests: 2, succeeded: 1, failed: 1, serverErrors: 0, rateLimited: 0, inputs: 2, tokens: 3 });
  });

  it('takes a fixed latency plus a part that grows with the request tokens', async () => {
    emulator.configure({ latencyMs: 50, latencyPer1kTokensMs: 1_000 });
    const timed = async (input: string): Promise<number> => {
      const started = performance.now();
      expect((await embed({ model: 'text-embedding-3-small', input })).status).toBe(200);
      return performance.now() - started;
    };
    // 1 token: 50 + 1 ms; 300 tokens: 50 + 300 ms. The fastest of three of each: a busy machine only adds.
    const fastest = async (input: string): Promise<number> => Math.min(await timed(input), await timed(input), await timed(input));
    const small = await fastest('orders');
    const large = await fastest(' orders'.repeat(300));
    expect(small).toBeGreaterThanOrEqual(45);
    expect(large).toBeGreaterThanOrEqual(340);
    // The difference is the per-token part (299 ms), whatever the machine adds to both.
    expect(large - small).toBeGreaterThanOrEqual(250);
  });

  it('counts the time it took to make the answer as part of the latency, not on top of it', async () => {
    // A clock that reads the whole latency gone by the time the answer is made: nothing is left to wait.
    let reads = 0;
    const busy = new OpenAIEmulator({ apiKey: 'sk-test-key', latencyMs: 60_000, now: () => (reads++ === 0 ? 0 : 60_000) });
    const busyUrl = (await busy.start()).url;
    try {
      const started = performance.now();
      const res = await fetch(`${busyUrl}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-key' },
        body: JSON.stringify({ model: 'text-embedding-3-small', input: 'orders', encoding_format: 'float' }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Json).data[0].embedding).toEqual(toFloat32(hashingVector('orders', 1536)));
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(res.headers.get('openai-processing-ms')).toBe('60000');
    } finally {
      await busy.stop();
    }
  });

  it('answers a rate-limited request at once, without the latency of an accepted one', async () => {
    emulator.configure({ latencyMs: 3_000, tokensPerMinute: 1 });
    const started = performance.now();
    const limited = await embed({ model: 'text-embedding-3-small', input: 'one two three' });
    expect(limited.status).toBe(429);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('injects 429 rate_limit_exceeded answers with the retry headers asked for', async () => {
    emulator.failNext({ count: 2, status: 429, retryAfterMs: 1_500 });
    for (let i = 0; i < 2; i++) {
      const limited = await embed({ model: 'text-embedding-3-small', input: 'x' });
      expect(limited.status).toBe(429);
      expect(limited.body.error).toMatchObject({ code: 'rate_limit_exceeded' });
      expect(limited.headers.get('retry-after-ms')).toBe('1500');
      expect(limited.headers.get('retry-after')).toBe('2');
    }
    expect((await embed({ model: 'text-embedding-3-small', input: 'x' })).status).toBe(200);
    expect(emulator.stats).toMatchObject({ requests: 3, rateLimited: 2, failed: 0, succeeded: 1 });
  });

  it('counts 5xx answers apart, and bills only the tokens of answered requests', async () => {
    emulator.failNext({ count: 2, status: 500 });
    await embed({ model: 'text-embedding-3-small', input: 'a b' });
    await embed({ model: 'text-embedding-3-small', input: 'a b' });
    await embed({ model: 'nope', input: 'x' });
    await embed({ model: 'text-embedding-3-small', input: 'a b' });
    expect(emulator.stats).toEqual({
      requests: 4,
      succeeded: 1,
      failed: 3,
      serverErrors: 2,
      rateLimited: 0,
      inputs: 1,
      tokens: 2,
      firstRequestAt: now,
      lastSucceededAt: now,
    });
  });
});
