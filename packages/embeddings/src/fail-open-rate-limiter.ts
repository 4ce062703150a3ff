import { randomUUID } from 'node:crypto';
import { type Logger } from '@catalog-indexer/logger';
import { type RateLimitGrant, type RateLimiter } from './rate-limiter';

/**
 * A {@link RateLimiter} that lets requests through when the shared one cannot be reached (Redis down or
 * slow): for the query service, whose questions must not wait on Redis. While Redis is away the workers
 * cannot take jobs either, so there is nothing to share the budget with; the API's own 429s still apply.
 * A refusal of the limiter itself (a request over the limit, an abort) is passed on.
 */
export class FailOpenRateLimiter implements RateLimiter {
  private warnedAt = 0;

  constructor(
    private readonly inner: RateLimiter,
    private readonly logger: Logger,
  ) {}

  get tokensPerMinute(): number | undefined {
    return this.inner.tokensPerMinute;
  }

  async acquire(tokens: number, signal?: AbortSignal): Promise<RateLimitGrant> {
    try {
      return await this.inner.acquire(tokens, signal);
    } catch (error) {
      if (error instanceof RangeError || signal?.aborted) throw error;
      this.warn(error);
      return { id: `unshared-${randomUUID()}`, tokens, waitedMs: 0 };
    }
  }

  async refund(grant: RateLimitGrant): Promise<void> {
    if (grant.id.startsWith('unshared-')) return;
    await this.inner.refund(grant).catch((error: unknown) => this.warn(error));
  }

  async pause(ms: number): Promise<void> {
    await this.inner.pause(ms).catch((error: unknown) => this.warn(error));
  }

  /** At most one warning a minute: a Redis outage must not flood the log. */
  private warn(error: unknown): void {
    if (Date.now() - this.warnedAt < 60_000) return;
    this.warnedAt = Date.now();
    this.logger.warn({ err: error }, 'the shared embedding rate limiter is unreachable: questions are embedded without it');
  }
}
