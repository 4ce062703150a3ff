/**
 * Reaching or reading a source database failed for a reason the caller can fix: a stable `code`, a message
 * that never holds the connection string or its password. `expose` tells the HTTP layer to show code and
 * message as they are; `permanent` tells a job not to retry.
 */
export abstract class SourceError<Code extends string> extends Error {
  readonly permanent = true;
  readonly expose = true;

  constructor(
    readonly code: Code,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
