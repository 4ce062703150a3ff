import { QdrantClientResourceExhaustedError } from '@qdrant/js-client-rest';
import {
  ConnectError,
  ConnectErrorCode as Code,
  QdrantClientResourceExhaustedError as GrpcResourceExhaustedError,
} from '@qdrant/js-client-grpc';
import { VectorStoreError } from './vector-store.error';

interface ApiErrorLike {
  status: number;
  data?: unknown;
}

/**
 * The HTTP status Qdrant's REST API answers for the failure a gRPC code reports (Qdrant maps one error of its
 * storage to both), so that both transports fail with the same status: bad input 400, missing 404, exists
 * 409, rate limit 429, forbidden 403, unauthenticated 401, internal 500, unavailable 503. A call that got no
 * answer (cancelled by the client's timeout, past its deadline) has none, as a REST call that timed out.
 */
const STATUS_OF_CODE: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.FailedPrecondition]: 400,
  [Code.OutOfRange]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.ResourceExhausted]: 429,
  [Code.Internal]: 500,
  [Code.DataLoss]: 500,
  [Code.Unknown]: 500,
  [Code.Unimplemented]: 501,
  [Code.Unavailable]: 503,
};

/**
 * A gRPC call the client gave up (its timeout aborted it): no answer, whatever code the abort was reported
 * with (an abort reason from another realm, as under a test runner, comes back as `Unknown`).
 */
function aborted(error: ConnectError): boolean {
  const cause = error.cause as { name?: unknown } | undefined;
  return error.code === Code.Canceled || error.code === Code.DeadlineExceeded || cause?.name === 'AbortError' || cause?.name === 'TimeoutError';
}

/** An error of the REST client that carries Qdrant's HTTP answer. */
export function isApiError(error: unknown): error is ApiErrorLike & Error {
  return error instanceof Error && typeof (error as Partial<ApiErrorLike>).status === 'number';
}

/** Qdrant's own words for a failure, without the status. */
function messageOf(error: unknown): string {
  if (error instanceof ConnectError) return error.rawMessage;
  if (isApiError(error)) return (error.data as { status?: { error?: string } } | undefined)?.status?.error ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Qdrant's 404 for a collection that does not exist (not for a missing point), over REST or gRPC. */
export function isMissingCollection(error: unknown): boolean {
  if (statusOf(error) !== 404) return false;
  return /collection .* (doesn't|does not) exist/i.test(messageOf(error));
}

/** Another process did it first: the collection or alias to create exists. */
export function isConflict(error: unknown): boolean {
  return statusOf(error) === 409;
}

/**
 * The HTTP status of a failed call, when Qdrant answered (for gRPC, the status REST answers for its code:
 * see {@link STATUS_OF_CODE}). The REST client turns a 429 that carries `Retry-After` into a
 * {@link QdrantClientResourceExhaustedError} without a status.
 */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof QdrantClientResourceExhaustedError) return 429;
  if (error instanceof ConnectError) return aborted(error) ? undefined : STATUS_OF_CODE[error.code];
  return isApiError(error) ? error.status : undefined;
}

/** A 429's `Retry-After` in milliseconds, when Qdrant sent one (a header over REST, metadata over gRPC). */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof QdrantClientResourceExhaustedError) && !(error instanceof GrpcResourceExhaustedError)) return undefined;
  const ms = error.retry_after * 1000;
  return ms > 0 ? ms : undefined;
}

/** Qdrant's own words for a failure: status and message. */
export function describe(error: unknown): string {
  const after = retryAfterMs(error);
  if (after !== undefined) return `429 ${messageOf(error)} (retry after ${after / 1000} s)`;
  const status = statusOf(error);
  if (status !== undefined) return `${status} ${messageOf(error)}`;
  return messageOf(error);
}

/** The error a caller of the store sees: what failed, Qdrant's words and status, the client's error as cause. */
export function storeError(what: string, error: unknown): VectorStoreError {
  return new VectorStoreError(`qdrant ${what} failed: ${describe(error)}`, statusOf(error), { cause: error });
}
