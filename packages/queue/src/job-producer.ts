import { randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { type Redis } from 'ioredis';
import { CATALOG_QUEUE, jobCatalog, parsePayload, type JobInput, type JobName } from './job-catalog';

export interface EnqueuedJob {
  jobId: string;
  name: JobName;
  /** True when an equal job for the same catalog was already waiting or running and took this request. */
  deduplicated: boolean;
}

export interface JobView {
  id: string;
  name: string;
  state: string;
  progress: unknown;
  result: unknown;
  failedReason: string | null;
  attemptsMade: number;
  data: Record<string, unknown>;
  createdAt: string | null;
  processedAt: string | null;
  finishedAt: string | null;
}

/** Adds catalog jobs and reads their state. Used by the api; never processes anything. */
export class JobProducer {
  readonly queue: Queue;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue(CATALOG_QUEUE, { connection, prefix });
  }

  /**
   * Validates the payload and adds the job. Requests for the same job name and catalog coalesce: while one
   * waits, a new request joins it (its `true` flags, such as `force`, are added to the waiting job's data);
   * while one runs, the newest request is kept to run after it. So at most one runs and one waits.
   */
  async enqueue<N extends JobName>(name: N, input: JobInput<N>): Promise<EnqueuedJob> {
    const payload = parsePayload(name, input);
    const jobId = `${name}-${randomUUID()}`;
    const job = await this.queue.add(name, payload, {
      ...jobCatalog[name].options,
      jobId,
      deduplication: { id: `${name}-${payload.catalogId}`, keepLastIfActive: true },
    });
    const id = job.id ?? jobId;
    const deduplicated = id !== jobId;
    if (deduplicated) await this.mergeFlags(id, payload);
    return { jobId: id, name, deduplicated };
  }

  /** Adds the request's `true` flags to a waiting job that took it, so a forced request is not lost. */
  private async mergeFlags(id: string, payload: Record<string, unknown>): Promise<void> {
    if (!Object.values(payload).some((v) => v === true)) return;
    const existing: Job | undefined = await this.queue.getJob(id);
    if (!existing || !['waiting', 'delayed', 'prioritized'].includes(await existing.getState())) return;
    const data = existing.data as Record<string, unknown>;
    const raised = Object.keys(payload).filter((k) => payload[k] === true && data[k] !== true);
    if (raised.length === 0) return;
    await existing.updateData({ ...data, ...Object.fromEntries(raised.map((k) => [k, true])) });
  }

  /** The job's state as BullMQ has it, or null when there is no such job. */
  async getJob(id: string): Promise<JobView | null> {
    // State first: a job seen as finished has its result or failure already written (BullMQ sets both in
    // one script), so reading the job after its state never pairs "failed" with an empty reason.
    const state = await this.queue.getJobState(id);
    const job: Job | undefined = await this.queue.getJob(id);
    if (!job || state === 'unknown') return null;
    const iso = (t: number | undefined) => (t ? new Date(t).toISOString() : null);
    return {
      id: job.id ?? id,
      name: job.name,
      state,
      progress: job.progress,
      result: job.returnvalue ?? null,
      failedReason: job.failedReason || null,
      attemptsMade: job.attemptsMade,
      data: job.data as Record<string, unknown>,
      createdAt: iso(job.timestamp),
      processedAt: iso(job.processedOn),
      finishedAt: iso(job.finishedOn),
    };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
