/** The result of embedding a list of texts: one vector per text, in order, and the tokens it cost. */
export interface EmbeddingResult {
  vectors: number[][];
  tokens: number;
}

/** Turns texts into vectors of a fixed size. Implementations: {@link OpenAIEmbedder}, {@link LocalEmbedder}. */
export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Embeds every text, batching and retrying as the implementation needs. */
  embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult>;
}
