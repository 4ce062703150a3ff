/**
 * The embeddings API refused a request in a way that retrying cannot fix (bad request, bad key, quota
 * exhausted, wrong vector size). Jobs fail for good on it; the message says what to fix.
 */
export class EmbeddingRequestError extends Error {
  readonly code = 'embedding_request_failed';
  /** Retrying cannot help: the job fails for good with this message. */
  readonly permanent = true;

  constructor(
    message: string,
    readonly status?: number,
    readonly apiCode?: string | null,
  ) {
    super(message);
    this.name = 'EmbeddingRequestError';
  }
}
