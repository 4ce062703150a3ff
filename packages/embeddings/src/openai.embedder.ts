import type OpenAI from 'openai';
import { type Logger } from '@catalog-indexer/logger';
import { embeddingRateLimited, embeddingRequests, embeddingRetries, embeddingTokens } from '@catalog-indexer/metrics';
import { OPENAI_LIMITS, packBatches, type BatchLimits, type PreparedInput } from './batching';
import { type DenseVector, type Embedder, type EmbeddingResult, type EmbeddingStats } from './embedder';
import { readBody } from './answer-body';
import { decodeBase64Vectors, readEmbeddingsAnswer, type EmbeddingsAnswer } from './vector-decoding';
import { EmbeddingRequestError } from './embedding.error';
import { setTimeout as delay } from 'node:timers/promises';
import { truncateToTokens } from '@catalog-indexer/text';
import { type RateLimiter } from './rate-limiter';
import { retryAfterMs } from './retry-after';
import { EMBEDDINGS_BACKOFF, EMBEDDINGS_RATE_LIMIT_BACKOFF, backoffDelay, isRetryableStatus, type BackoffRule } from '@catalog-indexer/retry';

export interface OpenAIEmbedderOptions {
  apiKey: string;
  baseUrl?: string;
  model: string;
  dimensions: number;
  /** Send `dimensions` in requests. On for text-embedding-3 models; off for servers that reject it. */
  sendDimensions?: boolean;
  /** `base64` (the SDK's default: a quarter of the bytes) or `float` for servers that ignore the field. */
  encoding?: 'base64' | 'float';
  /** Tokens per request (at most 300,000); below 8,191 it also caps each input, which is truncated to fit. */
  batchMaxTokens?: number;
  batchMaxInputs?: number;
  /** Retries of a request after a 5xx, 408, 409, timeout or connection error (429s are not counted). */
  maxRetries?: number;
  timeoutMs?: number;
  /** First backoff after a transient failure, doubled each time; default 500 ms. */
  retryBaseMs?: number;
  /** Longest backoff after a transient failure; default 8 s. */
  retryMaxMs?: number;
  /**
   * Admits each request within the API's limits and holds all requests after a 429; shared by every
   * process when it is a {@link RedisRateLimiter}. Without one, a 429 holds only the call that got it.
   */
  limiter?: RateLimiter;
  /**
   * 429s waited out per request before giving up with the API's error; default unlimited (workers). A
   * caller that answers a person (the query service) sets a small number.
   */
  maxRateLimitWaits?: number;
  logger?: Logger;
}

let openaiClass: typeof OpenAI | undefined;

/**
 * The `openai` SDK, loaded on first use: a process that never sends a request (an idle worker, a query
 * service that has not been asked yet) does not carry its code.
 */
function sdk(): typeof OpenAI {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  openaiClass ??= (require('openai') as { default: typeof OpenAI }).default;
  return openaiClass;
}

const emptyStats = (): EmbeddingStats => ({ requests: 0, tokens: 0, rateLimited: 0, retries: 0, waitedMs: 0 });

/**
 * Embeds through the official `openai` SDK. Texts are counted with cl100k_base, cut to the per-input limit
 * (a chunk over it is truncated, never sent to fail), and packed into requests within the input and token
 * limits. Each request first takes its place from the rate limiter; a 429 pauses every process sharing the
 * limiter for its `retry-after` and the request is sent again, however often that happens, without counting
 * as a failure. 5xx, 408, 409, timeouts and connection errors are retried with capped exponential backoff
 * (the SDK's own retries are off, so that the limiter alone decides when to send). Errors that a retry
 * cannot fix become {@link EmbeddingRequestError}.
 */
export class OpenAIEmbedder implements Embedder {
  readonly provider = 'openai' as const;
  readonly model: string;
  readonly dimensions: number;
  private readonly clientOptions: ConstructorParameters<typeof OpenAI>[0];
  private clientInstance: OpenAI | undefined;
  private readonly limits: BatchLimits;
  private readonly encoding: 'base64' | 'float';
  private readonly sendDimensions: boolean;
  private readonly logger: Logger | undefined;
  private readonly limiter: RateLimiter | undefined;
  private readonly maxRetries: number;
  private readonly maxRateLimitWaits: number;
  private readonly backoff: BackoffRule;
  private readonly totals = emptyStats();

  constructor(options: OpenAIEmbedderOptions) {
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.encoding = options.encoding ?? 'base64';
    this.sendDimensions = options.sendDimensions ?? options.model.startsWith('text-embedding-3');
    this.logger = options.logger;
    this.limiter = options.limiter;
    this.maxRetries = options.maxRetries ?? 5;
    this.maxRateLimitWaits = options.maxRateLimitWaits ?? Infinity;
    this.backoff = {
      ...EMBEDDINGS_BACKOFF,
      initialMs: options.retryBaseMs ?? EMBEDDINGS_BACKOFF.initialMs,
      maxMs: options.retryMaxMs ?? EMBEDDINGS_BACKOFF.maxMs,
    };
    // A request must fit one minute of the token limit, or it could never be sent.
    const maxTokensPerRequest = Math.min(
      options.batchMaxTokens ?? OPENAI_LIMITS.maxTokensPerRequest,
      OPENAI_LIMITS.maxTokensPerRequest,
      options.limiter?.tokensPerMinute ?? Infinity,
    );
    this.limits = {
      maxInputs: Math.min(options.batchMaxInputs ?? OPENAI_LIMITS.maxInputs, OPENAI_LIMITS.maxInputs),
      // A request budget below the per-input limit also caps each input: one input alone must fit a request.
      maxTokensPerInput: Math.min(OPENAI_LIMITS.maxTokensPerInput, maxTokensPerRequest),
      maxTokensPerRequest,
    };
    this.clientOptions = {
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 60_000,
    };
  }

  private get client(): OpenAI {
    this.clientInstance ??= new (sdk())(this.clientOptions);
    return this.clientInstance;
  }

  /** Every call since this embedder was made: requests, billed tokens, 429s, retries, time waited. */
  get stats(): EmbeddingStats {
    return { ...this.totals };
  }

  async embed(texts: string[], signal?: AbortSignal, tokens?: readonly (number | null)[]): Promise<EmbeddingResult> {
    const prepared: PreparedInput[] = texts.map((raw, index) => {
      // A count the caller kept (a planned row's) stands for the text's when the text fits one input as it is.
      const known = tokens?.[index];
      if (known != null && known <= this.limits.maxTokensPerInput && raw.trim() !== '') return { index, text: raw, tokens: known };
      // The API rejects empty strings; a single space embeds as "nothing" and keeps positions aligned.
      const text = raw.trim() === '' ? ' ' : raw;
      const cut = truncateToTokens(text, this.limits.maxTokensPerInput);
      if (cut.text.length < text.length) {
        this.logger?.warn({ index, tokens: cut.tokens }, 'input over the per-input token limit was truncated');
      }
      return { index, text: cut.text, tokens: cut.tokens };
    });
    const vectors: DenseVector[] = new Array<DenseVector>(texts.length);
    const stats = emptyStats();
    for (const batch of packBatches(prepared, this.limits)) {
      const counted = batch.reduce((s, b) => s + b.tokens, 0);
      const response = await this.request(
        batch.map((b) => b.text),
        counted,
        stats,
        signal,
      );
      const billed = response.usage?.total_tokens ?? counted;
      embeddingTokens.inc({ model: this.model }, billed);
      stats.tokens += billed;
      this.totals.tokens += billed;
      if (response.data.length !== batch.length) {
        throw new EmbeddingRequestError(`the embeddings API returned ${response.data.length} vectors for ${batch.length} inputs`);
      }
      const decoded = this.decode(response.data.map((item) => item.embedding));
      response.data.forEach((item, j) => {
        const input = batch[item.index];
        if (!input) throw new EmbeddingRequestError(`the embeddings API returned an unknown index ${item.index}`);
        vectors[input.index] = decoded[j]!;
      });
    }
    return { vectors, tokens: stats.tokens, stats };
  }

  /**
   * The vectors of one answer: base64 strings decoded straight into `Float32Array`s, or JSON arrays as they
   * came (asked for with `float`, or sent by a server that ignores `encoding_format`). Each must have the
   * configured size.
   */
  private decode(embeddings: unknown[]): DenseVector[] {
    const mismatch = (found: number) =>
      new EmbeddingRequestError(
        `the embeddings API returned vectors of ${found} dimensions, expected ${this.dimensions}: ` +
          'check EMBEDDING_DIMENSIONS, or set EMBEDDING_ENCODING=float for servers that ignore encoding_format',
      );
    if (embeddings.every((e): e is Float32Array => e instanceof Float32Array && e.length === this.dimensions)) return embeddings;
    if (embeddings.every((e): e is string => typeof e === 'string')) {
      const decoded = decodeBase64Vectors(embeddings, this.dimensions);
      if (!Array.isArray(decoded)) throw mismatch(decoded.mismatch);
      return decoded;
    }
    return embeddings.map((e) => {
      if (!Array.isArray(e)) throw new EmbeddingRequestError('the embeddings API returned an embedding that is neither base64 nor a list of numbers');
      if (e.length !== this.dimensions) throw mismatch(e.length);
      return e as number[];
    });
  }

  /** Sends one request until it succeeds, waiting out 429s and retrying transient failures. */
  private async request(input: string[], tokens: number, stats: EmbeddingStats, signal?: AbortSignal): Promise<EmbeddingsAnswer> {
    let attempt = 0;
    let failures = 0;
    let rateLimited = 0;
    const count = (key: 'requests' | 'rateLimited' | 'retries' | 'waitedMs', amount = 1): void => {
      stats[key] += amount;
      this.totals[key] += amount;
    };
    for (;;) {
      const grant = await this.limiter?.acquire(tokens, signal);
      if (grant) count('waitedMs', grant.waitedMs);
      count('requests');
      try {
        const call = this.client.embeddings.create(
          {
            model: this.model,
            input,
            // Given explicitly: the SDK's own decoding of base64 into arrays of numbers is never involved.
            encoding_format: this.encoding,
            ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
          },
          // The SDK does not retry here (maxRetries 0), so it would always say 0.
          { signal, headers: { 'X-Stainless-Retry-Count': String(attempt) } },
        );
        // base64 is read from the answer's bytes (see readEmbeddingsAnswer), not from the SDK's parsed text.
        const response: EmbeddingsAnswer =
          this.encoding === 'base64' ? await readBody(await call.asResponse(), (body) => readEmbeddingsAnswer(body, this.dimensions)) : await call;
        embeddingRequests.inc({ model: this.model, outcome: 'ok' });
        return response;
      } catch (error) {
        attempt += 1;
        const rateLimit = rateLimitOf(error);
        embeddingRequests.inc({ model: this.model, outcome: rateLimit ? 'rate_limited' : 'error' });
        if (rateLimit) {
          embeddingRateLimited.inc({ model: this.model });
          count('rateLimited');
          rateLimited += 1;
          if (rateLimited > this.maxRateLimitWaits) throw error;
          // The API did not count the refused request; the pause (shared) keeps everyone off it meanwhile.
          if (grant) await this.limiter?.refund(grant);
          const waitMs = rateLimit.retryAfterMs ?? backoffDelay(EMBEDDINGS_RATE_LIMIT_BACKOFF, rateLimited);
          this.logger?.warn({ waitMs, rateLimited, tokens }, 'embeddings API answered 429: pausing and sending again');
          const started = Date.now();
          if (this.limiter) await this.limiter.pause(waitMs);
          else await delay(waitMs, undefined, { signal });
          count('waitedMs', Date.now() - started);
          continue;
        }
        if (isTransient(error) && failures < this.maxRetries) {
          failures += 1;
          embeddingRetries.inc({ model: this.model });
          count('retries');
          const waitMs = backoffDelay(this.backoff, failures);
          this.logger?.warn({ err: error, failures, waitMs }, 'embeddings request failed: retrying');
          await delay(waitMs, undefined, { signal });
          continue;
        }
        throw classify(error);
      }
    }
  }
}

/** A 429 `rate_limit_exceeded` worth waiting for, with its `retry-after-ms` / `retry-after` if given. */
function rateLimitOf(error: unknown): { retryAfterMs: number | undefined } | undefined {
  if (!(error instanceof sdk().APIError)) return undefined;
  const { status, headers } = answerOf(error);
  if (status !== 429) return undefined;
  if (error.code === 'insufficient_quota' || headers?.get('x-should-retry') === 'false') return undefined;
  // "Limit 1000, Requested 1200": this request alone is over the limit and will never be accepted.
  const sizes = /Limit (\d+),(?: Used \d+,)? Requested (\d+)/.exec(error.message);
  if (sizes && Number(sizes[2]) > Number(sizes[1])) return undefined;
  return { retryAfterMs: retryAfterMs(headers) };
}

/** The status and headers of an API error (none for connection errors). */
function answerOf(error: object): { status: number | undefined; headers: Headers | undefined } {
  const { status, headers } = error as { status?: unknown; headers?: unknown };
  return { status: typeof status === 'number' ? status : undefined, headers: headers instanceof Headers ? headers : undefined };
}

/** Failures that another attempt may get past: 408, 409, 5xx, timeouts and lost connections. */
function isTransient(error: unknown): boolean {
  if (error instanceof sdk().APIUserAbortError) return false;
  if (error instanceof sdk().APIConnectionError) return true;
  if (!(error instanceof sdk().APIError)) return false;
  const { status, headers } = answerOf(error);
  if (headers?.get('x-should-retry') === 'false') return false;
  // An error without a status was not an answer of the API; a 429 that reaches here cannot succeed (quota,
  // a request over the limit: see rateLimitOf). 409 (a lock that timed out) is retried as the SDK would.
  if (status === undefined || status === 429) return false;
  return status === 409 || isRetryableStatus(status);
}

/** Errors a retry cannot fix become {@link EmbeddingRequestError}; the rest are thrown as they are. */
function classify(error: unknown): unknown {
  if (!(error instanceof sdk().APIError)) return error;
  const status: number | undefined = (error as { status?: number }).status;
  const code = typeof error.code === 'string' ? error.code : null;
  if (status === 429 && code === 'insufficient_quota') {
    return new EmbeddingRequestError(`embeddings quota exhausted: ${error.message}`, status, code);
  }
  if (status === 429) {
    return new EmbeddingRequestError(`embeddings request over the API's rate limit on its own: ${error.message}`, status, code);
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409) {
    const hint = status === 401 ? ' (check OPENAI_API_KEY)' : status === 404 ? ' (check EMBEDDING_MODEL and OPENAI_BASE_URL)' : '';
    return new EmbeddingRequestError(`embeddings request refused with ${status}${hint}: ${error.message}`, status, code);
  }
  return error;
}
