/**
 * How long to wait before another attempt: `initialMs` doubled with each attempt, capped at `maxMs`, then
 * multiplied by a random factor in `[jitter[0], jitter[1])` so that many callers failing together do not
 * retry together.
 */
export interface BackoffRule {
  /** The wait before the first retry (before jitter). */
  initialMs: number;
  /** The longest wait before jitter, however many attempts have failed. */
  maxMs: number;
  /** The range of the random factor; no jitter (a factor of 1) when absent. */
  jitter?: readonly [low: number, high: number];
  /** Cut the jittered wait to `maxMs` too (otherwise the cap bounds the wait before jitter only). */
  capJittered?: boolean;
}

/** Doubling stops here: 2^52 times any wait is past every cap, and keeps `0 * 2^n` a number. */
const MAX_EXPONENT = 52;

/**
 * The wait in whole milliseconds before retry number `attempt` (1 for the first retry) under `rule`.
 * `random` returns a number in [0, 1), as `Math.random` does; tests pass a fixed one.
 */
export function backoffDelay(rule: BackoffRule, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.min(MAX_EXPONENT, Math.max(0, attempt - 1));
  const base = Math.min(rule.maxMs, rule.initialMs * 2 ** exponent);
  const [low, high] = rule.jitter ?? [1, 1];
  const jittered = base * (low + (high - low) * random());
  return Math.round(rule.capJittered ? Math.min(rule.maxMs, jittered) : jittered);
}

/**
 * A job's next attempt (BullMQ's `capped` strategy): 2 s doubling up to 60 s, ±20 %. With 15 attempts an
 * outage of Postgres, Qdrant or the embeddings API of several minutes delays a job but does not fail it.
 */
export const JOB_BACKOFF: BackoffRule = { initialMs: 2_000, maxMs: 60_000, jitter: [0.8, 1.2] };

/** A worker whose Redis calls fail pauses 1 s doubling up to 30 s, ±20 %, never past 30 s. */
export const REDIS_ERROR_BACKOFF: BackoffRule = { initialMs: 1_000, maxMs: 30_000, jitter: [0.8, 1.2], capJittered: true };

/**
 * A transient failure of an embeddings request (5xx, 408, 409, timeout, lost connection): 0.5 s doubling
 * up to 8 s, shortened by up to a quarter.
 */
export const EMBEDDINGS_BACKOFF: BackoffRule = { initialMs: 500, maxMs: 8_000, jitter: [0.75, 1] };

/** A 429 of the embeddings API without `retry-after`: 1 s doubling up to 60 s (the pause is shared, so no jitter). */
export const EMBEDDINGS_RATE_LIMIT_BACKOFF: BackoffRule = { initialMs: 1_000, maxMs: 60_000 };

/** A Qdrant call that failed for a reason another attempt may get past: 0.2 s doubling up to 5 s, ±25 %. */
export const QDRANT_BACKOFF: BackoffRule = { initialMs: 200, maxMs: 5_000, jitter: [0.75, 1.25] };

/**
 * Points written to a vector store that is down: 0.5 s doubling up to 15 s, no jitter (one writer per
 * catalog holds its lease). The vectors are kept in memory meanwhile, so an outage does not cost their tokens again.
 */
export const STORE_OUTAGE_BACKOFF: BackoffRule = { initialMs: 500, maxMs: 15_000 };

/**
 * A reindex run planning again after batches failed for good: 1 s doubling with each such plan in a row, up
 * to 30 s (the caller adds its jitter).
 */
export const REPLAN_BACKOFF: BackoffRule = { initialMs: 1_000, maxMs: 30_000 };
