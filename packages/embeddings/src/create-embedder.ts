import { type Config } from '@catalog-indexer/config';
import { type Logger } from '@catalog-indexer/logger';
import { identityName, type Embedder, type EmbedderIdentity } from './embedder';
import { EmbeddingRequestError } from './embedding.error';
import { LOCAL_MODEL, LocalEmbedder } from './local.embedder';
import { OpenAIEmbedder } from './openai.embedder';
import { type RateLimiter } from './rate-limiter';

/** What {@link createEmbedder} may be given besides the configuration. */
export interface CreateEmbedderOptions {
  /**
   * Shared rate limiter (see `createRateLimiter`); used by the OpenAI embedder only. With it every 429 is
   * waited out (unless `maxRateLimitWaits` says otherwise); without it a request gives up after
   * `EMBEDDING_MAX_RETRIES` 429s.
   */
  limiter?: RateLimiter;
  /** 429s a request waits out before failing; default: all of them with a limiter, `maxRetries` without. */
  maxRateLimitWaits?: number;
  /**
   * The identity to embed in, when it is not the configured one (the query service embeds questions in the
   * space the served collection holds). An OpenAI identity needs `OPENAI_API_KEY`: it is never served by the
   * local embedder.
   */
  identity?: EmbedderIdentity;
}

/** The identity of the embedder the configuration asks for: `openai/<EMBEDDING_MODEL>@<size>` with a key, else `local/hashing-v1@<size>`. */
export function configuredIdentity(config: Config['embeddings']): EmbedderIdentity {
  return config.provider === 'openai' && config.apiKey
    ? { provider: 'openai', model: config.model, dimensions: config.dimensions }
    : { provider: 'local', model: LOCAL_MODEL, dimensions: config.dimensions };
}

/**
 * The embedder the configuration asks for (OpenAI, or a compatible server, with a key; else local), or the
 * one of `options.identity`.
 *
 * @throws EmbeddingRequestError when the identity names a provider or model this process cannot serve.
 */
export function createEmbedder(config: Config['embeddings'], logger: Logger, options: CreateEmbedderOptions = {}): Embedder {
  const identity = options.identity ?? configuredIdentity(config);
  if (identity.provider === 'openai') {
    if (!config.apiKey) {
      throw new EmbeddingRequestError(`the index holds vectors of ${identityName(identity)}: set OPENAI_API_KEY to embed in that space`);
    }
    logger.info(
      {
        embedder: identityName(identity),
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
      model: identity.model,
      dimensions: identity.dimensions,
      encoding: config.encoding,
      batchMaxTokens: config.batchMaxTokens,
      batchMaxInputs: config.batchMaxInputs,
      maxRetries: config.maxRetries,
      timeoutMs: config.timeoutMs,
      limiter: options.limiter,
      // Workers (with the shared limiter) wait out every 429; without it, as many 429s as retries.
      maxRateLimitWaits: options.maxRateLimitWaits ?? (options.limiter ? undefined : config.maxRetries),
      logger,
    });
  }
  if (identity.model !== LOCAL_MODEL) {
    throw new EmbeddingRequestError(`the index holds vectors of ${identityName(identity)}, a local model this version does not have`);
  }
  if (options.identity === undefined) {
    logger.warn(
      { embedder: identityName(identity) },
      'embeddings: OPENAI_API_KEY is not set, using the local deterministic embedder (no network, not a semantic model)',
    );
  }
  return new LocalEmbedder(identity.dimensions);
}
