/** What a {@link RateLimiter} granted: one request carrying `tokens` tokens. */
export interface RateLimitGrant {
  /** Identifies the grant, so that it can be given back with {@link RateLimiter.refund}. */
  readonly id: string;
  readonly tokens: number;
  /** How long the caller waited for it (limits and pauses), in milliseconds. */
  readonly waitedMs: number;
}

/**
 * Admits embeddings requests within the API's requests- and tokens-per-minute, across every process that
 * shares it, and pauses them all when the API answers 429.
 */
export interface RateLimiter {
  /** Tokens per minute, when limited: no single request may carry more. */
  readonly tokensPerMinute: number | undefined;
  /** Resolves once one request of `tokens` tokens fits the limits and no pause is in force. */
  acquire(tokens: number, signal?: AbortSignal): Promise<RateLimitGrant>;
  /** Gives back a grant whose request the API refused with 429, so that it does not count. */
  refund(grant: RateLimitGrant): Promise<void>;
  /** Holds every request of every process sharing the limiter for `ms` (a 429's `retry-after`). */
  pause(ms: number): Promise<void>;
}
