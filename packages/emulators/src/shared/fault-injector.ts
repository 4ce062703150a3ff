/** A fault to inject into the next requests matching a method and a path pattern. */
export interface FaultRule {
  /** HTTP method to match (case-insensitive); any method when omitted. */
  method?: string;
  /** Regular expression (source text or RegExp) tested against the request path; any path when omitted. */
  path?: string | RegExp;
  /** Answer with this status instead of serving the request. */
  status?: number;
  /** Error message put in the emulated API's error body. */
  message?: string;
  /** Wait this long before answering (or before serving, when no status is given). */
  delayMs?: number;
  /** Seconds put in a `Retry-After` header of the injected answer. */
  retryAfterSeconds?: number;
  /** How many matching requests the rule applies to; default 1. `Infinity` keeps it until reset. */
  times?: number;
}

/** A rule that matched a request: what to do with it. */
export interface TriggeredFault {
  status?: number;
  message?: string;
  delayMs: number;
  retryAfterSeconds?: number;
}

interface ActiveRule {
  method?: string;
  path?: RegExp;
  status?: number;
  message?: string;
  delayMs: number;
  retryAfterSeconds?: number;
  remaining: number;
}

/**
 * Holds fault rules and consumes them as requests arrive. Rules apply in the order they were added; each
 * request consumes at most one rule.
 */
export class FaultInjector {
  private rules: ActiveRule[] = [];

  /** Adds a rule; throws a TypeError for a rule that would do nothing or is malformed. */
  add(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!(times > 0)) throw new TypeError('times must be a positive number');
    if (rule.status === undefined && rule.delayMs === undefined) {
      throw new TypeError('a fault needs a status, a delayMs or both');
    }
    if (rule.status !== undefined && (!Number.isInteger(rule.status) || rule.status < 100 || rule.status > 599)) {
      throw new TypeError(`status must be an HTTP status code, got ${String(rule.status)}`);
    }
    if (rule.delayMs !== undefined && !(rule.delayMs >= 0)) throw new TypeError('delayMs must be >= 0');
    this.rules.push({
      method: rule.method?.toUpperCase(),
      path: rule.path === undefined ? undefined : typeof rule.path === 'string' ? new RegExp(rule.path) : rule.path,
      status: rule.status,
      message: rule.message,
      delayMs: rule.delayMs ?? 0,
      retryAfterSeconds: rule.retryAfterSeconds,
      remaining: times,
    });
  }

  /** Consumes and returns the first rule matching the request, if any. */
  take(method: string, path: string): TriggeredFault | undefined {
    const index = this.rules.findIndex(
      (r) => (r.method === undefined || r.method === method.toUpperCase()) && (r.path === undefined || r.path.test(path)),
    );
    const rule = this.rules[index];
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules.splice(index, 1);
    return { status: rule.status, message: rule.message, delayMs: rule.delayMs, retryAfterSeconds: rule.retryAfterSeconds };
  }

  /** Number of rules still armed. */
  get pending(): number {
    return this.rules.length;
  }

  /** Removes every rule. */
  reset(): void {
    this.rules = [];
  }
}
