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
