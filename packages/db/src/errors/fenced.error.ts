/**
 * A write refused because the writer no longer holds its catalog's lease: another run took it (after this
 * holder's lease expired), so this holder's view of the catalog may be stale. Not retryable by the holder.
 */
export class FencedError extends Error {
  readonly code = 'fenced';
  readonly permanent = true;

  constructor(
    readonly catalogId: string,
    readonly fence: number,
  ) {
    super(`catalog ${catalogId}: lease with fence ${fence} is no longer held; another run took the catalog`);
    this.name = 'FencedError';
  }
}
