import { type Logger } from '@catalog-indexer/logger';
import { REDIS_ERROR_BACKOFF, backoffDelay, type BackoffRule } from '@catalog-indexer/retry';

/** What the backoff needs of a BullMQ Worker: its `error` events, and pausing and resuming it. */
export interface PausableWorker {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'closing', listener: () => void): unknown;
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): unknown;
}

export interface RedisErrorBackoffOptions {
  logger: Logger;
  /** First pause after a failed Redis call. */
  initialDelayMs?: number;
  /** Longest pause, however long Redis keeps failing. */
  maxDelayMs?: number;
  /** At most one summary line per this interval while errors go on. */
  summaryIntervalMs?: number;
}

/**
 * Backs a worker off when its Redis calls fail, and keeps the log readable while they do.
 *
 * BullMQ retries a failed fetch at once and emits `error` each time, so a Redis that answers every call
 * with an error (a cluster refusing cross-slot scripts, an ACL, a full memory) would turn into a hot loop
 * and thousands of log lines a second. Here the first error of an episode pauses the worker (active jobs go
 * on) for a capped exponential delay with jitter, then resumes it; errors are counted, not logged one by
 * one: one line when the episode starts, a summary (count, first error) at most every `summaryIntervalMs`,
 * and one line when calls succeed again.
 */
export class RedisErrorBackoff {
  private readonly logger: Logger;
  private readonly rule: BackoffRule;
  private readonly summaryIntervalMs: number;
  /** Pauses in a row without a quiet period between them. */
  private streak = 0;
  private pausedUntil = 0;
  private episode: { startedAt: number; errors: number; firstError: string } | undefined;
  private unreported = 0;
  private lastSummaryAt = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
  private worker: PausableWorker | undefined;

  constructor(options: RedisErrorBackoffOptions) {
    this.logger = options.logger;
    this.rule = {
      ...REDIS_ERROR_BACKOFF,
      initialMs: options.initialDelayMs ?? REDIS_ERROR_BACKOFF.initialMs,
      maxMs: options.maxDelayMs ?? REDIS_ERROR_BACKOFF.maxMs,
    };
    this.summaryIntervalMs = options.summaryIntervalMs ?? 10_000;
  }

  /** Listens to the worker's errors. One backoff per worker; it stops when the worker closes. */
  attach(worker: PausableWorker): this {
    this.worker = worker;
    worker.on('error', (error) => this.onError(error));
    worker.on('closing', () => {
      // A closing worker must not be resumed by a pending timer.
      this.stop();
      this.worker = undefined;
    });
    return this;
  }

  /** Stops the timers (the worker is closing). */
  stop(): void {
    clearTimeout(this.resumeTimer);
    clearTimeout(this.quietTimer);
    this.resumeTimer = undefined;
    this.quietTimer = undefined;
  }

  /** The pause the next failure would get: doubles with each pause in a row, capped, with ±20 % jitter. */
  nextDelayMs(): number {
    return backoffDelay(this.rule, this.streak + 1);
  }

  private onError(error: Error): void {
    const now = Date.now();
    clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    if (!this.episode) {
      this.episode = { startedAt: now, errors: 0, firstError: error.message };
      this.lastSummaryAt = now;
      this.unreported = 0;
      this.logger.warn({ err: error }, `redis calls are failing: ${error.message}; the worker backs off`);
    } else {
      this.unreported++;
    }
    this.episode.errors++;
    if (now - this.lastSummaryAt >= this.summaryIntervalMs && this.unreported > 0) {
      this.logger.warn(
        {
          errors: this.unreported,
          errorsInEpisode: this.episode.errors,
          firstError: this.episode.firstError,
          failingForMs: now - this.episode.startedAt,
        },
        `${this.unreported} failed redis calls in the last ${Math.round((now - this.lastSummaryAt) / 1000)} s ` +
          `(first: ${this.episode.firstError}); still backing off`,
      );
      this.lastSummaryAt = now;
      this.unreported = 0;
    }
    if (now >= this.pausedUntil) this.pause(now);
  }

  private pause(now: number): void {
    const worker = this.worker;
    if (!worker) return;
    const delay = this.nextDelayMs();
    this.streak++;
    this.pausedUntil = now + delay;
    worker.pause(true).catch(() => undefined);
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      void Promise.resolve(worker.resume()).catch(() => undefined);
      // Calls that succeed for as long as the last pause lasted end the episode.
      this.quietTimer = setTimeout(() => this.recovered(), Math.min(delay, 5_000)).unref();
    }, delay).unref();
  }

  private recovered(): void {
    this.quietTimer = undefined;
    const episode = this.episode;
    if (!episode) return;
    this.logger.info(
      { errors: episode.errors, firstError: episode.firstError, failedForMs: Date.now() - episode.startedAt },
      `redis calls succeed again after ${episode.errors} failures; the worker runs normally`,
    );
    this.episode = undefined;
    this.streak = 0;
    this.pausedUntil = 0;
  }
}
