/**
 * An error Qdrant would answer with: an HTTP status and the text that goes in
 * `{"status":{"error":"…"}}`. The factories use Qdrant's own wording so clients and tests that match on
 * messages behave as they would against the real server.
 */
export class QdrantError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds for a `Retry-After` header (429 and 503 answers). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'QdrantError';
  }

  /** 400: a body that could not be parsed into the expected shape. */
  static format(detail: string): QdrantError {
    return new QdrantError(400, `Format error in JSON body: ${detail}`);
  }

  /** 422: a well-formed body whose values break a rule (`limit` below 1, …). */
  static validation(field: string, detail: string): QdrantError {
    return new QdrantError(422, `Validation error in JSON body: [${field}: ${detail}]`);
  }

  /** 400: a request that is understood but not acceptable. */
  static wrongInput(detail: string): QdrantError {
    return new QdrantError(400, `Wrong input: ${detail}`);
  }

  /** 400: a feature of the real API this emulator does not implement. */
  static unsupported(feature: string): QdrantError {
    return new QdrantError(400, `Wrong input: ${feature} is not supported by the Qdrant emulator`);
  }

  static collectionNotFound(name: string): QdrantError {
    return new QdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`);
  }

  static collectionExists(name: string): QdrantError {
    return new QdrantError(409, `Wrong input: Collection \`${name}\` already exists!`);
  }

  static aliasNotFound(name: string): QdrantError {
    return new QdrantError(404, `Not found: Alias \`${name}\` doesn't exist!`);
  }

  static pointNotFound(id: number | string): QdrantError {
    return new QdrantError(404, `Not found: No point with id ${id} found`);
  }

  static dimension(expected: number, got: number): QdrantError {
    return QdrantError.wrongInput(`Vector dimension error: expected dim: ${expected}, got ${got}`);
  }
}
