/**
 * Recognises errors that mean a service the request needs (Postgres, Redis, Qdrant, the embeddings API) is
 * down or overloaded right now, as opposed to a fault of this code. Such a request may succeed when retried,
 * so it is answered 503 with `Retry-After`, not 500.
 */

/** Node socket errors of a peer that is not there or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Postgres SQLSTATEs of an unavailable server: connection exceptions (08…), shutdown, too many clients. */
const POSTGRES_UNAVAILABLE = /^(08\w{3}|57P0[1-3]|53300)$/;

/** Messages of drivers that lost their connection (pg, TypeORM, ioredis) and carry no code. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /Cannot use a pool after calling end on the pool/,
  /^Driver not Connected/,
  /timeout exceeded when trying to connect/,
  /^Connection is closed\.?$/,
  /enableOfflineQueue options is false/,
  /Reached the max retries per request limit/,
  /^fetch failed$/,
];

/** Error classes of clients whose server did not answer in time or is overloaded. */
const UNAVAILABLE_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'APIConnectionError',
  'APIConnectionTimeoutError',
  'InternalServerError',
  'RateLimitError',
]);

interface Inspectable {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  status?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function oneIsUnavailable(e: Inspectable): boolean {
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || POSTGRES_UNAVAILABLE.test(e.code))) return true;
  if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return true;
  if (e.code === 'vector_store_failed') {
    // No answer at all, an overloaded or failing server, or a collection not (yet) there.
    return e.status === undefined || e.status === 404 || e.status === 429 || (typeof e.status === 'number' && e.status >= 500);
  }
  return typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(e.message as string));
}

/** True when the error, or one it was caused by, says a dependency is unreachable or overloaded. */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const e = error as Inspectable;
  if (oneIsUnavailable(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDependencyUnavailable(inner, depth + 1))) return true;
  return isDependencyUnavailable(e.cause, depth + 1);
}
