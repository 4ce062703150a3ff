/**
 * One embedding: float32 values as the API sends them in base64 (decoded in place, no number array in
 * between), or plain numbers from a JSON array (`encoding_format: float`, the local embedder).
 */
export type DenseVector = Float32Array | number[];

/** The result of embedding a list of texts: one vector per text, in order, and the tokens it cost. */
export interface EmbeddingResult {
  vectors: DenseVector[];
  tokens: number;
  /** Requests, 429s and retries of this call, for metrics; absent for embedders that call no API. */
  stats?: EmbeddingStats;
}

/** What one {@link Embedder.embed} call cost at the API, or every call since start (`OpenAIEmbedder.stats`). */
export interface EmbeddingStats {
  /** HTTP requests sent, retries and 429s included. */
  requests: number;
  /** Tokens of the requests the API answered successfully (what is billed). */
  tokens: number;
  /** Requests answered 429 `rate_limit_exceeded`, each waited out and sent again. */
  rateLimited: number;
  /** Requests sent again after a 5xx, 408, 409, timeout or connection error. */
  retries: number;
  /** Time spent waiting for the rate limiter or a 429's pause, in milliseconds. */
  waitedMs: number;
}

/** Who provides an embedder's vectors: the OpenAI API (or a compatible server), or the local hashing embedder. */
export type EmbeddingProvider = 'openai' | 'local';

/**
 * What makes an embedder's vectors comparable with others: provider, model (as the provider names it) and
 * size. It is part of every content hash, recorded with every collection, and shown by `/readyz`.
 */
export interface EmbedderIdentity {
  readonly provider: EmbeddingProvider;
  readonly model: string;
  readonly dimensions: number;
}

/** An identity as one string, `<provider>/<model>@<dimensions>`: `local/hashing-v1@256`. */
export function identityName(identity: { provider: string; model: string; dimensions: number }): string {
  return `${identity.provider}/${identity.model}@${identity.dimensions}`;
}

/** Turns texts into vectors of a fixed size. Implementations: {@link OpenAIEmbedder}, {@link LocalEmbedder}. */
export interface Embedder extends EmbedderIdentity {
  /**
   * Embeds every text, batching and retrying as the implementation needs. `tokens`, when given, holds each
   * text's token count as `countTokens` gives it (null where unknown): the counts given are not taken again.
   */
  embed(texts: string[], signal?: AbortSignal, tokens?: readonly (number | null)[]): Promise<EmbeddingResult>;
}
