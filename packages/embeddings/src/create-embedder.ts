import { type Config } from '@catalog-indexer/config';
import { type Logger } from '@catalog-indexer/logger';
import { type Embedder } from './embedder';
import { LocalEmbedder } from './local.embedder';
import { OpenAIEmbedder } from './openai.embedder';
import { type RateLimiter } from './rate-limiter';

/** What {@link createEmbedder} may be given besides the configuration. */
export interface CreateEmbedderOptions {
  /**
   * Shared rate limiter (see `createRateLimiter`); used by the OpenAI embedder only. With it every 429 is
   * waited out; without it a request gives up after `EMBEDDING_MAX_RETRIES` 429s.
   */
  limiter?: RateLimiter;
}

/** The embedder the configuration asks for: OpenAI (or a compatible server) with a key, else local. */
export function createEmbedder(config: Config['embeddings'], logger: Logger, options: CreateEmbedderOptions = {}): Embedder {
  if (config.provider === 'openai' && config.apiKey) {
    logger.info(
      {
        model: config.model,
        dimensions: config.dimensions,
        baseUrl: config.baseUrl ?? 'https://api.openai.com/v1',
        requestsPerMinute: config.requestsPerMinute ?? 'unlimited',
        tokensPerMinute: config.tokensPerMinute ?? 'unlimited',
        sharedLimiter: options.limiter !== undefined,
      },
      'embeddings: OpenAI API',
    );
    return new OpenAIEmbedder({
      apiKey: config.apiKey,
      baseUrl: config.baseUrl,
      model: config.model,
      dimensions: config.dimensions,
      encoding: config.encoding,
      batchMaxTokens: config.batchMaxTokens,
      batchMaxInputs: config.batchMaxInputs,
      maxRetries: config.maxRetries,
      timeoutMs: config.timeoutMs,
      limiter: options.limiter,
      // Workers (with the shared limiter) wait out every 429; without it, as many 429s as retries.
      maxRateLimitWaits: options.limiter ? undefined : config.maxRetries,
      logger,
    });
  }
  logger.warn(
    { model: config.model, dimensions: config.dimensions },
    'embeddings: OPENAI_API_KEY is not set, using the local deterministic embedder (no network, not a semantic model)',
  );
  return new LocalEmbedder(config.model, config.dimensions);
}
