/** Qdrant refused or failed an operation. `status` is the HTTP status when there was an answer. */
export class VectorStoreError extends Error {
  readonly code = 'vector_store_failed';

  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VectorStoreError';
  }
}

/**
 * Whether the store refused a request for good: a 4xx other than 404 (a collection being recreated) and
 * 429 (a rate limit). Another attempt of the same request cannot succeed (a wrong vector size, a malformed
 * request); a failure without an answer, or with a 5xx, may pass with time.
 */
export function isPermanentStoreError(error: unknown): boolean {
  const status = (error as { status?: unknown } | null | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429 && status !== 404;
}
