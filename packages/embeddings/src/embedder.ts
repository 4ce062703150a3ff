/** The result of embedding a list of texts: one vector per text, in order, and the tokens it cost. */
export interface EmbeddingResult {
  vectors: number[][];
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

/** Turns texts into vectors of a fixed size. Implementations: {@link OpenAIEmbedder}, {@link LocalEmbedder}. */
export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Embeds every text, batching and retrying as the implementation needs. */
  embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult>;
}
