import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import { type RedisClient } from './connection';
import { ZodError } from 'zod';
import { CATALOG_QUEUE, JOB_NAMES, cappedBackoff, isJobName, parsePayload, type JobName, type JobPayload } from './job-catalog';

/** What a handler gets besides its payload: the job's lock token (for moving the job) and its abort signal. */
export interface JobContext {
  token: string | undefined;
  signal: AbortSignal | undefined;
}

/** What a handler receives: the validated payload, the BullMQ job (for progress and ids) and its context. */
export type JobHandler<N extends JobName> = (payload: JobPayload<N>, job: Job, context: JobContext) => Promise<unknown>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface JobWorkerOptions {
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  handlers: JobHandlers;
  /** How long a job's lock lives without renewal; a process that dies loses its jobs after this. */
  lockDuration?: number;
  /** How often this worker looks for stalled jobs (jobs of dead processes) and takes them up again. */
  stalledInterval?: number;
  /** How many times a job may stall before it fails; high, so that repeated crashes do not lose a job. */
  maxStalledCount?: number;
  /** Records the handlers running in this process (for a graceful shutdown). */
  running?: RunningJobs;
}

/** The handlers running in this process, by job id; {@link whenIdle} resolves when none is left. */
export class RunningJobs {
  readonly jobs = new Map<string, { name: string; catalogId?: string; since: number }>();
  private idle: (() => void)[] = [];

  /** Runs `work` as the handler of `job`, recorded while it runs. */
  async track<T>(job: Job, work: () => Promise<T>): Promise<T> {
    const id = job.id ?? '';
    this.jobs.set(id, { name: job.name, catalogId: (job.data as { catalogId?: string } | undefined)?.catalogId, since: Date.now() });
    try {
      return await work();
    } finally {
      this.jobs.delete(id);
      if (this.jobs.size === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** Resolves once no handler is running. */
  whenIdle(): Promise<void> {
    return this.jobs.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }
}

/**
 * Errors that say `permanent: true` (a refused embeddings request, an invalid stored catalog) cannot succeed
 * on a retry: they fail the job at once instead of using up its attempts.
 */
function isPermanent(error: unknown): error is Error & { permanent: true } {
  return error instanceof Error && (error as { permanent?: unknown }).permanent === true;
}

/** Control-flow errors of BullMQ that a handler throws on purpose: passed through untouched. */
function isControlFlow(error: unknown): boolean {
  return error instanceof DelayedError || error instanceof WaitingChildrenError || error instanceof UnrecoverableError;
}

/**
 * Thrown (or given as an abort reason) by work that has not started yet when its process stops taking jobs:
 * the job goes back to waiting at once, without using up an attempt, for another process to take.
 */
export class HandBackError extends Error {
  readonly code = 'handed_back';

  constructor(message = 'the worker is shutting down: the job is handed back to the queue') {
    super(message);
    this.name = 'HandBackError';
  }
}

/** Whether the error, or one it was caused by (an abort whose reason it is), is a {@link HandBackError}. */
export function isHandBack(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 'handed_back') return true;
  }
  return false;
}

/**
 * Puts a job back to wait `ms` without using up an attempt (e.g. while another writer holds its catalog).
 * Throw what it returns from the handler.
 */
export async function postpone(job: Job, token: string | undefined, ms: number): Promise<DelayedError> {
  await job.moveToDelayed(Date.now() + ms, token);
  return new DelayedError();
}

/**
 * One BullMQ Worker on the catalog queue. Refuses to start unless every job name of the catalog has exactly
 * one handler (the mapped type makes a missing one a compile error; this catches extra ones at run time).
 * A payload that does not match its schema fails for good: retrying cannot fix it. Retries back off with
 * the `capped` strategy of the job catalog.
 */
export function createJobWorker(options: JobWorkerOptions): Worker {
  const names = Object.keys(options.handlers);
  const extra = names.filter((n) => !isJobName(n));
  const missing = JOB_NAMES.filter((n) => typeof options.handlers[n] !== 'function');
  if (extra.length > 0 || missing.length > 0) {
    throw new Error(`job handlers do not match the job catalog: missing [${missing.join(', ')}], unknown [${extra.join(', ')}]`);
  }
  return new Worker(
    CATALOG_QUEUE,
    async (job: Job, token?: string, signal?: AbortSignal) => {
      if (!isJobName(job.name)) throw new UnrecoverableError(`no handler for job name "${job.name}"`);
      const name = job.name;
      let payload: JobPayload<typeof name>;
      try {
        payload = parsePayload(name, job.data);
      } catch (error) {
        if (error instanceof ZodError) throw new UnrecoverableError(`invalid ${name} payload: ${error.message}`);
        throw error;
      }
      const handler = options.handlers[name] as JobHandler<typeof name>;
      try {
        const run = () => handler(payload, job, { token, signal });
        return await (options.running ? options.running.track(job, run) : run());
      } catch (error) {
        if (isHandBack(error)) {
          await job.moveToWait(token);
          throw new DelayedError();
        }
        if (isControlFlow(error)) throw error;
        if (isPermanent(error)) throw new UnrecoverableError(error.message);
        throw error;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // Recorded on each job it takes (`processedBy`): which process holds a job, in Bull Board too.
      name: `${hostname()}:${process.pid}`,
      lockDuration: options.lockDuration ?? 30_000,
      stalledInterval: options.stalledInterval ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 50,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) => (type === 'capped' ? cappedBackoff(attemptsMade) : 2_000),
      },
    },
  );
}
