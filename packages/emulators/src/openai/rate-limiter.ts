/** The answer of a {@link SlidingWindowLimiter} to a request for some amount. */
export interface RateDecision {
  allowed: boolean;
  /** How long until the amount would fit (0 when allowed). */
  retryAfterMs: number;
}

/**
 * A limit on an amount (tokens, requests) per sliding window, by default one minute: a request fits when
 * what was granted in the last window plus the request stays within the limit. The clock is injectable
 * so tests need not wait.
 */
export class SlidingWindowLimiter {
  private grants: { at: number; amount: number }[] = [];

  constructor(
    readonly limit: number,
    private readonly now: () => number = Date.now,
    readonly windowMs = 60_000,
  ) {
    if (!(limit > 0)) throw new RangeError(`limit must be positive, got ${limit}`);
  }

  /** Grants `amount` if it fits and records it; otherwise says how long to wait. */
  tryTake(amount: number): RateDecision {
    const now = this.prune();
    const used = this.used();
    if (used + amount <= this.limit) {
      this.grants.push({ at: now, amount });
      return { allowed: true, retryAfterMs: 0 };
    }
    if (amount > this.limit) return { allowed: false, retryAfterMs: this.windowMs };
    // Wait until enough of the oldest grants leave the window.
    let freed = 0;
    for (const grant of this.grants) {
      freed += grant.amount;
      if (used - freed + amount <= this.limit) {
        return { allowed: false, retryAfterMs: Math.max(1, grant.at + this.windowMs - now) };
      }
    }
    return { allowed: false, retryAfterMs: this.windowMs };
  }

  /** Amount granted within the current window. */
  used(): number {
    this.prune();
    return this.grants.reduce((s, g) => s + g.amount, 0);
  }

  /** What is left of the limit right now. */
  remaining(): number {
    return Math.max(0, this.limit - this.used());
  }

  /** Time until the window holds no grants, i.e. the full limit is available again. */
  resetInMs(): number {
    const now = this.prune();
    const last = this.grants[this.grants.length - 1];
    return last ? Math.max(0, last.at + this.windowMs - now) : 0;
  }

  /** Forgets every grant. */
  clear(): void {
    this.grants = [];
  }

  private prune(): number {
    const now = this.now();
    const cutoff = now - this.windowMs;
    if (this.grants.length > 0 && (this.grants[0]?.at ?? now) <= cutoff) {
      this.grants = this.grants.filter((g) => g.at > cutoff);
    }
    return now;
  }
}

/** Formats a duration as OpenAI's rate-limit reset headers do: "12ms", "1s", "1.5s", "6m0s". */
export function formatResetDuration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const totalSeconds = rounded / 1000;
  if (totalSeconds < 60) return `${trimDecimals(totalSeconds)}s`;
  const minutes = Math.floor(totalSeconds / 60);
  return `${minutes}m${trimDecimals(totalSeconds - minutes * 60)}s`;
}

function trimDecimals(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}
