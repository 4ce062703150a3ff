import { Worker, UnrecoverableError, type Job } from 'bullmq';
import { type RedisClient } from './connection';
import { ZodError } from 'zod';
import { CATALOG_QUEUE, JOB_NAMES, isJobName, parsePayload, type JobName, type JobPayload } from './job-catalog';

/** What a handler receives: the validated payload and the BullMQ job (for progress and ids). */
export type JobHandler<N extends JobName> = (payload: JobPayload<N>, job: Job, signal?: AbortSignal) => Promise<unknown>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface JobWorkerOptions {
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  handlers: JobHandlers;
  lockDuration?: number;
  stalledInterval?: number;
}

/**
 * Errors that say `permanent: true` (a refused embeddings request, an invalid stored catalog) cannot succeed
 * on a retry: they fail the job at once instead of using up its attempts.
 */
function isPermanent(error: unknown): error is Error & { permanent: true } {
  return error instanceof Error && (error as { permanent?: unknown }).permanent === true;
}

/**
 * One BullMQ Worker on the catalog queue. Refuses to start unless every job name of the catalog has exactly
 * one handler (the mapped type makes a missing one a compile error; this catches extra ones at run time).
 * A payload that does not match its schema fails for good: retrying cannot fix it.
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
    async (job: Job, _token?: string, signal?: AbortSignal) => {
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
        return await handler(payload, job, signal);
      } catch (error) {
        if (isPermanent(error)) throw new UnrecoverableError(error.message);
        throw error;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDuration ?? 30_000,
      stalledInterval: options.stalledInterval ?? 30_000,
      maxStalledCount: 2,
    },
  );
}
