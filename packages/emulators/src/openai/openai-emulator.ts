import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import { countTokens, hashingVector } from '@catalog-indexer/text';
import { CONTROL_PREFIX, EmulatorServer, type EmulatorServerOptions } from '../shared/emulator-server';
import { sleep } from '../shared/sleep';
import { encodeBase64Embedding, toFloat32 } from './embedding-encoding';
import { type EmbeddingRequest, parseEmbeddingRequest } from './limits';
import { OpenAIError } from './openai-error';
import { SlidingWindowLimiter, formatResetDuration } from './rate-limiter';

/** Runtime switches of {@link OpenAIEmulator}. */
export interface OpenAIEmulatorConfig {
  /** Fixed part of the time an accepted embeddings request takes before it is answered. */
  latencyMs: number;
  /** Part that grows with the request: milliseconds per 1,000 input tokens, added to `latencyMs`. */
  latencyPer1kTokensMs: number;
  /** Tokens per minute (sliding window) before 429 `rate_limit_exceeded`; undefined = not enforced. */
  tokensPerMinute?: number;
  /** Requests per minute before 429 `rate_limit_exceeded`; undefined = not enforced. */
  requestsPerMinute?: number;
  /** When true every request gets 429 `insufficient_quota`, marked not retryable. */
  insufficientQuota: boolean;
}

/** Options of {@link OpenAIEmulator}. */
export interface OpenAIEmulatorOptions extends EmulatorServerOptions, Partial<OpenAIEmulatorConfig> {
  /** When set, requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Clock of the rate limiter, so tests can move time; default `Date.now`. */
  now?: () => number;
}

/** What the emulator has served since start or the last reset. */
export interface OpenAIEmulatorStats {
  /** Every `POST /v1/embeddings` received, whatever its outcome. */
  requests: number;
  succeeded: number;
  /** Answered 429 `rate_limit_exceeded`. */
  rateLimited: number;
  /** Answered with any other error (injected, quota, validation, auth). */
  failed: number;
  /** Of `failed`, those answered with a 5xx status. */
  serverErrors: number;
  /** Inputs embedded by successful requests. */
  inputs: number;
  /** Tokens embedded by successful requests: what the API bills. */
  tokens: number;
  /** When the first embeddings request arrived (the emulator's clock, ms), or null. */
  firstRequestAt: number | null;
  /** When the last successful answer was sent (the emulator's clock, ms), or null. */
  lastSucceededAt: number | null;
}

/** Failures to inject into the next requests. */
export interface InjectedFailure {
  count: number;
  /** Default 503 (`server_is_overloaded`); 429 answers `rate_limit_exceeded` at once, with retry headers. */
  status?: number;
  message?: string;
  /** `retry-after-ms` of an injected 429 (and `retry-after`, rounded up to seconds); default 1000. */
  retryAfterMs?: number;
}

/**
 * Latency like the OpenAI embeddings API's: about 300 ms per request plus a part that grows with its tokens
 * (here 20 ms per 1,000 tokens, so 0.5 s for a request of 10,000 tokens).
 */
export const OPENAI_LIKE_LATENCY: Pick<OpenAIEmulatorConfig, 'latencyMs' | 'latencyPer1kTokensMs'> = {
  latencyMs: 300,
  latencyPer1kTokensMs: 20,
};

/** Limits reported in headers when none is enforced, so clients that read them see plausible values. */
const NOMINAL_LIMITS = { requests: 10_000, tokens: 10_000_000 };

/** The route the product calls; the spec lists it as `/embeddings` under the server URL `…/v1`. */
const EMBEDDINGS_PATH = '/v1/embeddings';

const emptyStats = (): OpenAIEmulatorStats => ({
  requests: 0,
  succeeded: 0,
  rateLimited: 0,
  failed: 0,
  serverErrors: 0,
  inputs: 0,
  tokens: 0,
  firstRequestAt: null,
  lastSucceededAt: null,
});

/**
 * An OpenAI `POST /v1/embeddings` server: deterministic hashing vectors (texts sharing words are close),
 * exact cl100k_base token usage, the API's request limits and error bodies, float and base64 encodings,
 * and switches for latency, rate limits (429 with retry headers), quota exhaustion and injected failures.
 */
export class OpenAIEmulator extends EmulatorServer {
  private readonly apiKey: string | undefined;
  private readonly now: () => number;
  private readonly initial: OpenAIEmulatorConfig;
  private settings: OpenAIEmulatorConfig;
  private requestLimiter: SlidingWindowLimiter;
  private tokenLimiter: SlidingWindowLimiter;
  private failures: { remaining: number; status: number; message?: string; retryAfterMs: number } | undefined;
  private counters = emptyStats();

  constructor(options: OpenAIEmulatorOptions = {}) {
    super(options);
    this.apiKey = options.apiKey;
    this.now = options.now ?? Date.now;
    this.initial = {
      latencyMs: options.latencyMs ?? 0,
      latencyPer1kTokensMs: options.latencyPer1kTokensMs ?? 0,
      tokensPerMinute: options.tokensPerMinute,
      requestsPerMinute: options.requestsPerMinute,
      insufficientQuota: options.insufficientQuota ?? false,
    };
    this.settings = { ...this.initial };
    this.requestLimiter = this.limiter(this.settings.requestsPerMinute, NOMINAL_LIMITS.requests);
    this.tokenLimiter = this.limiter(this.settings.tokensPerMinute, NOMINAL_LIMITS.tokens);
  }

  /** The current switches. */
  get config(): OpenAIEmulatorConfig {
    return { ...this.settings };
  }

  /** Changes switches at runtime; a limit set to undefined stops being enforced. Windows restart. */
  configure(patch: Partial<OpenAIEmulatorConfig>): void {
    const next = { ...this.settings, ...patch };
    if (!(next.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');
    if (!(next.latencyPer1kTokensMs >= 0)) throw new RangeError('latencyPer1kTokensMs must be >= 0');
    for (const key of ['tokensPerMinute', 'requestsPerMinute'] as const) {
      const v = next[key];
      if (v !== undefined && !(v > 0)) throw new RangeError(`${key} must be positive`);
    }
    if ('tokensPerMinute' in patch) this.tokenLimiter = this.limiter(next.tokensPerMinute, NOMINAL_LIMITS.tokens);
    if ('requestsPerMinute' in patch) this.requestLimiter = this.limiter(next.requestsPerMinute, NOMINAL_LIMITS.requests);
    this.settings = next;
  }

  /** Answers the next `count` embeddings requests with `status` (default 503 `server_is_overloaded`). */
  failNext(failure: InjectedFailure): void {
    if (!(failure.count > 0)) throw new RangeError('count must be positive');
    const status = failure.status ?? 503;
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`status must be 4xx or 5xx, got ${status}`);
    const retryAfterMs = failure.retryAfterMs ?? 1_000;
    if (!(retryAfterMs >= 0)) throw new RangeError('retryAfterMs must be >= 0');
    this.failures = { remaining: failure.count, status, message: failure.message, retryAfterMs };
  }

  /** Turns quota exhaustion (429 `insufficient_quota`) on or off. */
  setInsufficientQuota(on: boolean): void {
    this.settings.insufficientQuota = on;
  }

  /** Counters since start or the last reset. */
  get stats(): OpenAIEmulatorStats {
    return { ...this.counters };
  }

  /** Restores the constructor's switches and clears counters, rate windows and injected failures. */
  reset(): void {
    this.settings = { ...this.initial };
    this.requestLimiter = this.limiter(this.settings.requestsPerMinute, NOMINAL_LIMITS.requests);
    this.tokenLimiter = this.limiter(this.settings.tokensPerMinute, NOMINAL_LIMITS.tokens);
    this.failures = undefined;
    this.counters = emptyStats();
  }

  protected registerRoutes(app: Express): void {
    app.use(express.json({ limit: '32mb', strict: false }));
    this.controlRoutes(app);
    this.route(app, 'post', EMBEDDINGS_PATH, (req, res) => this.embeddings(req, res));
    app.use((req, res) => {
      this.sendError(res, new OpenAIError(404, `Invalid URL (${req.method} ${req.path})`, 'invalid_request_error'));
    });
  }

  protected handleError(err: unknown, _req: Request, res: Response): void {
    if (err instanceof OpenAIError) {
      this.sendError(res, err);
      return;
    }
    const bodyError = err as { type?: string; message?: string };
    if (bodyError.type === 'entity.parse.failed' || bodyError.type === 'entity.too.large') {
      this.sendError(
        res,
        OpenAIError.invalidRequest(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP " +
            'library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
        ),
      );
      return;
    }
    this.logger?.error({ err }, 'openai emulator failed');
    this.sendError(res, new OpenAIError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error'));
  }

  /** The answer to an accepted request: a vector per input, in the encoding asked for. */
  private answer(request: EmbeddingRequest): object {
    const data = request.inputs.map((input, index) => {
      const vector = toFloat32(hashingVector(input.text, request.dimensions));
      return { object: 'embedding' as const, index, embedding: request.encoding === 'base64' ? encodeBase64Embedding(vector) : vector };
    });
    return { object: 'list', data, model: request.model.name, usage: { prompt_tokens: request.totalTokens, total_tokens: request.totalTokens } };
  }

  /**
   * Refusals that cost the API nothing (auth, quota, validation, rate limits) are answered at once, as
   * OpenAI does; an accepted request (counted against the limits from its arrival) then takes the latency,
   * and an injected server error comes at its end.
   */
  private async embeddings(req: Request, res: Response): Promise<void> {
    this.counters.requests += 1;
    const started = this.now();
    this.counters.firstRequestAt ??= started;
    try {
      this.authorize(req);
      const failure = this.takeInjectedFailure();
      if (failure?.status === 429) throw injectedRateLimit(failure);
      if (this.settings.insufficientQuota) throw quotaError();
      const request = parseEmbeddingRequest(req.body, countTokens);
      this.enforceRateLimits(request);
      // The latency is the request's whole time at the API: the answer is made within it and held back for
      // what remains, so that the emulator's own work (the vectors, their encoding) does not add to it.
      const latencyMs = this.settings.latencyMs + (request.totalTokens / 1000) * this.settings.latencyPer1kTokensMs;
      const answer = failure ? undefined : this.answer(request);
      await sleep(Math.max(0, started + latencyMs - this.now()));
      if (failure) throw injectedError(failure);
      this.counters.succeeded += 1;
      this.counters.inputs += request.inputs.length;
      this.counters.tokens += request.totalTokens;
      this.counters.lastSucceededAt = this.now();
      this.commonHeaders(res);
      res.set('openai-model', request.model.name);
      res.set('openai-processing-ms', String(Math.max(0, this.now() - started)));
      res.json(answer);
    } catch (err) {
      if (err instanceof OpenAIError && err.code === 'rate_limit_exceeded') {
        this.counters.rateLimited += 1;
      } else {
        this.counters.failed += 1;
        if (!(err instanceof OpenAIError) || err.status >= 500) this.counters.serverErrors += 1;
      }
      throw err;
    }
  }

  private authorize(req: Request): void {
    if (this.apiKey === undefined) return;
    const header = req.get('authorization');
    const key = header?.match(/^Bearer\s+(.+)$/i)?.[1];
    if (key === undefined) {
      throw new OpenAIError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer " +
          'auth (i.e. Authorization: Bearer YOUR_KEY).',
        'invalid_request_error',
      );
    }
    if (key !== this.apiKey) {
      // Like OpenAI, show only the ends of the key that was sent.
      const masked = key.length > 8 ? `${key.slice(0, 3)}***${key.slice(-4)}` : '***';
      throw new OpenAIError(
        401,
        `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        null,
        'invalid_api_key',
      );
    }
  }

  /** The injected failure this request is to get, if any; each request uses one up. */
  private takeInjectedFailure(): { status: number; message?: string; retryAfterMs: number } | undefined {
    const failure = this.failures;
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures = undefined;
    return failure;
  }

  private enforceRateLimits(request: EmbeddingRequest): void {
    const checks = [
      { limiter: this.requestLimiter, enforced: this.settings.requestsPerMinute !== undefined, amount: 1, kind: 'requests', unit: 'requests per min (RPM)' },
      { limiter: this.tokenLimiter, enforced: this.settings.tokensPerMinute !== undefined, amount: request.totalTokens, kind: 'tokens', unit: 'tokens per min (TPM)' },
    ] as const;
    for (const check of checks) {
      if (!check.enforced) {
        check.limiter.tryTake(check.amount); // tracked only for the remaining-* headers
        continue;
      }
      const used = check.limiter.used();
      const decision = check.limiter.tryTake(check.amount);
      if (decision.allowed) continue;
      const wait = decision.retryAfterMs;
      throw new OpenAIError(
        429,
        `Rate limit reached for ${request.model.name} in organization org-emulator on ${check.unit}: ` +
          `Limit ${check.limiter.limit}, Used ${used}, Requested ${check.amount}. ` +
          `Please try again in ${formatResetDuration(wait)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        check.kind,
        null,
        'rate_limit_exceeded',
        { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))), 'retry-after-ms': String(wait) },
      );
    }
  }

  private controlRoutes(app: Express): void {
    app.post(`${CONTROL_PREFIX}/config`, (req, res) => {
      try {
        const body = (req.body ?? {}) as Partial<OpenAIEmulatorConfig> & { failNext?: InjectedFailure; reset?: boolean };
        if (body.reset === true) this.reset();
        const patch: Partial<OpenAIEmulatorConfig> = {};
        if (body.latencyMs !== undefined) patch.latencyMs = body.latencyMs;
        if (body.latencyPer1kTokensMs !== undefined) patch.latencyPer1kTokensMs = body.latencyPer1kTokensMs;
        if (body.insufficientQuota !== undefined) patch.insufficientQuota = body.insufficientQuota;
        // null lifts a limit; JSON has no undefined.
        if (body.tokensPerMinute !== undefined) patch.tokensPerMinute = body.tokensPerMinute ?? undefined;
        if (body.requestsPerMinute !== undefined) patch.requestsPerMinute = body.requestsPerMinute ?? undefined;
        this.configure(patch);
        if (body.failNext) this.failNext(body.failNext);
        res.json({ config: this.config, stats: this.stats });
      } catch (err) {
        res.status(400).json({ error: (err as Error).message });
      }
    });
    app.get(`${CONTROL_PREFIX}/stats`, (_req, res) => {
      res.json(this.stats);
    });
    app.post(`${CONTROL_PREFIX}/reset`, (_req, res) => {
      this.reset();
      res.json({ config: this.config, stats: this.stats });
    });
  }

  private commonHeaders(res: Response): void {
    res.set({
      'x-request-id': `req_${randomBytes(16).toString('hex')}`,
      'openai-version': '2020-10-01',
      'x-ratelimit-limit-requests': String(this.requestLimiter.limit),
      'x-ratelimit-limit-tokens': String(this.tokenLimiter.limit),
      'x-ratelimit-remaining-requests': String(this.requestLimiter.remaining()),
      'x-ratelimit-remaining-tokens': String(this.tokenLimiter.remaining()),
      'x-ratelimit-reset-requests': formatResetDuration(this.requestLimiter.resetInMs()),
      'x-ratelimit-reset-tokens': formatResetDuration(this.tokenLimiter.resetInMs()),
    });
  }

  private sendError(res: Response, error: OpenAIError): void {
    this.commonHeaders(res);
    res.set(error.headers);
    res.status(error.status).json(error.toBody());
  }

  private limiter(limit: number | undefined, nominal: number): SlidingWindowLimiter {
    return new SlidingWindowLimiter(limit ?? nominal, this.now);
  }
}

function injectedError(failure: { status: number; message?: string }): OpenAIError {
  if (failure.status === 503) {
    return new OpenAIError(503, failure.message ?? 'The server is overloaded or not ready yet.', 'server_error', null, 'server_is_overloaded');
  }
  if (failure.status >= 500) {
    return new OpenAIError(
      failure.status,
      failure.message ?? 'The server had an error while processing your request. Sorry about that!',
      'server_error',
    );
  }
  return new OpenAIError(failure.status, failure.message ?? 'Injected failure', 'invalid_request_error');
}

function injectedRateLimit(failure: { message?: string; retryAfterMs: number }): OpenAIError {
  const wait = failure.retryAfterMs;
  return new OpenAIError(
    429,
    failure.message ??
      `Rate limit reached for requests. Please try again in ${formatResetDuration(wait)}. ` +
        'Visit https://platform.openai.com/account/rate-limits to learn more.',
    'requests',
    null,
    'rate_limit_exceeded',
    { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))), 'retry-after-ms': String(wait) },
  );
}

function quotaError(): OpenAIError {
  return new OpenAIError(
    429,
    'You exceeded your current quota, please check your plan and billing details. For more information on this ' +
      'error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
    'insufficient_quota',
    null,
    'insufficient_quota',
    // Retrying cannot help; the official SDKs honour this header and give up at once.
    { 'x-should-retry': 'false' },
  );
}
