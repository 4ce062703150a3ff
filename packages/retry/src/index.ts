export {
  backoffDelay,
  type BackoffRule,
  JOB_BACKOFF,
  REDIS_ERROR_BACKOFF,
  EMBEDDINGS_BACKOFF,
  EMBEDDINGS_RATE_LIMIT_BACKOFF,
  QDRANT_BACKOFF,
  STORE_OUTAGE_BACKOFF,
  REPLAN_BACKOFF,
} from './backoff';
export { isRetryableStatus } from './retryable';
