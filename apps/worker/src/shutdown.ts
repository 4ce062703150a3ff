import { type RateLimiter } from '@catalog-indexer/embeddings';
import { type Logger } from '@catalog-indexer/logger';
import { HandBackError, type RunningJobs, type Worker } from '@catalog-indexer/queue';

/**
 * The rate limiter as this process's jobs see it: a wait for the limit ends at once when the process starts
 * shutting down (the job has not started its request, so it is handed back for another process to send);
 * a request already granted goes on.
 */
export function drainableLimiter(limiter: RateLimiter, draining: AbortSignal): RateLimiter {
  return {
    get tokensPerMinute() {
      return limiter.tokensPerMinute;
    },
    acquire: (tokens, signal) => limiter.acquire(tokens, signal ? AbortSignal.any([signal, draining]) : draining),
    refund: (grant) => limiter.refund(grant),
    pause: (ms) => limiter.pause(ms),
  };
}

export interface GracefulShutdownOptions {
  worker: Worker;
  /** Aborted first: work that waits (on the rate limiter) hands its job back. */
  drain: AbortController;
  /** The handlers running in this process. */
  running: RunningJobs;
  /** How long the jobs in flight may take (`WORKER_SHUTDOWN_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Closes everything else once the worker has stopped (connections, servers, the database pool). */
  closeRest: () => Promise<void>;
  logger: Logger;
  exit: (code: number) => void;
}

/**
 * SIGTERM: stop taking jobs, hand back at once the jobs that have not started their work (those waiting on
 * the rate limiter move back to waiting, so another process takes them within seconds), let the jobs in
 * flight finish within `timeoutMs`, then exit 0. Past the timeout, log what is abandoned (its lock lapses
 * and another process takes it up from its checkpoints) and exit 1.
 */
export async function shutDownGracefully(options: GracefulShutdownOptions, signal: string): Promise<void> {
  const { worker, drain, running, logger } = options;
  logger.info({ signal, active: [...running.jobs.keys()], timeoutMs: options.timeoutMs }, 'worker shutting down: handing back waiting jobs, finishing active ones');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  // close() stops fetching at once; the handlers still running are waited for here.
  const closing = worker.close();
  drain.abort(new HandBackError());
  const outcome = await Promise.race([running.whenIdle().then(() => closing).then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    logger.error(
      { timeoutMs: options.timeoutMs, abandoned: [...running.jobs.entries()].map(([id, j]) => ({ jobId: id, name: j.name, catalogId: j.catalogId, runningMs: Date.now() - j.since })) },
      `worker shutdown: ${running.jobs.size} job(s) still running after WORKER_SHUTDOWN_TIMEOUT_MS; abandoning them (their locks lapse and another worker takes them up from their checkpoints)`,
    );
    options.exit(1);
    return;
  }
  await options.closeRest().catch((error: unknown) => logger.warn({ err: error }, 'worker shutdown: closing connections failed'));
  logger.info({ signal }, 'worker stopped');
  options.exit(0);
}
