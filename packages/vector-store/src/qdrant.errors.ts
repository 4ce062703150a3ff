import { QdrantClientResourceExhaustedError } from '@qdrant/js-client-rest';
import { VectorStoreError } from './vector-store.error';

interface ApiErrorLike {
  status: number;
  data?: unknown;
}

/** An error of the client that carries Qdrant's HTTP answer. */
export function isApiError(error: unknown): error is ApiErrorLike & Error {
  return error instanceof Error && typeof (error as Partial<ApiErrorLike>).status === 'number';
}

/** Qdrant's 404 for a collection that does not exist (not for a missing point). */
export function isMissingCollection(error: unknown): boolean {
  if (!isApiError(error) || error.status !== 404) return false;
  const data = error.data as { status?: { error?: string } } | undefined;
  return /collection .* (doesn't|does not) exist/i.test(data?.status?.error ?? error.message);
}

/** Another process did it first: the collection or alias to create exists. */
export function isConflict(error: unknown): boolean {
  return isApiError(error) && error.status === 409;
}

/**
 * The HTTP status of a failed call, when Qdrant answered. The client turns a 429 that carries `Retry-After`
 * into a {@link QdrantClientResourceExhaustedError} without a status.
 */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof QdrantClientResourceExhaustedError) return 429;
  return isApiError(error) ? error.status : undefined;
}

/** A 429's `Retry-After` in milliseconds, when Qdrant sent one. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof QdrantClientResourceExhaustedError)) return undefined;
  const ms = error.retry_after * 1000;
  return ms > 0 ? ms : undefined;
}

/** Qdrant's own words for a failure: status and message. */
export function describe(error: unknown): string {
  if (error instanceof QdrantClientResourceExhaustedError) return `429 ${error.message} (retry after ${error.retry_after} s)`;
  if (isApiError(error)) {
    const data = error.data as { status?: { error?: string } } | undefined;
    return `${error.status} ${data?.status?.error ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The error a caller of the store sees: what failed, Qdrant's words and status, the client's error as cause. */
export function storeError(what: string, error: unknown): VectorStoreError {
  return new VectorStoreError(`qdrant ${what} failed: ${describe(error)}`, statusOf(error), { cause: error });
}
