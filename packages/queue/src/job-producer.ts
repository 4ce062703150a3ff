import { randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { type RedisClient } from './connection';
import { CATALOG_QUEUE, jobCatalog, parsePayload, type JobInput, type JobName } from './job-catalog';
import { JobCoalescer } from './job-coalescer';

export interface EnqueuedJob {
  jobId: string;
  name: JobName;
  /** True when the request joined a job that already carries it (waiting, or a forced run that is active). */
  deduplicated: boolean;
  /** `waiting` or `active` when deduplicated: the state of the job it joined when it joined. */
  joined?: 'waiting' | 'active';
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

/** A reservation older than this whose job is not in the queue was left by a producer that died. */
const ORPHAN_RESERVATION_MS = 10_000;

/** Adds catalog jobs and reads their state. Used by the api; never processes anything. */
export class JobProducer {
  readonly queue: Queue;
  readonly coalescer: JobCoalescer;

  constructor(
    /** The producer's own Redis connection (never a blocking one). */
    readonly connection: RedisClient,
    prefix: string,
  ) {
    this.queue = new Queue(CATALOG_QUEUE, { connection, prefix });
    this.coalescer = new JobCoalescer(connection, prefix, () => this.queue.waitUntilReady());
  }

  /**
   * Validates the payload and adds the job, coalescing requests for the same job name and catalog (see
   * {@link JobCoalescer}): the answer's `jobId` is always the job that carries this request. `version` is the
   * catalog version the caller saw; a forced reindex of that version joins a forced run of it that is active.
   */
  async enqueue<N extends JobName>(name: N, input: JobInput<N>, options: { version?: number | null } = {}): Promise<EnqueuedJob> {
    const payload = parsePayload(name, input) as Record<string, unknown>;
    const opts = jobCatalog[name].options;
    const scope = typeof payload.catalogId === 'string' ? payload.catalogId : 'all';
    const force = payload.force === true;
    for (let attempt = 0; ; attempt++) {
      const newId = `${name}-${randomUUID()}`;
      const reservation = await this.coalescer.reserve(name, scope, newId, force, options.version ?? null);
      if (reservation.joined === 'new') {
        try {
          await this.queue.add(name, payload, { ...opts, jobId: newId });
        } catch (error) {
          await this.coalescer.forget(name, scope, newId).catch(() => undefined);
          throw error;
        }
        return { jobId: newId, name, deduplicated: false };
      }
      if (reservation.joined === 'waiting' && attempt < 3 && (await this.isGone(reservation.jobId, reservation.reservedAt))) {
        await this.coalescer.forget(name, scope, reservation.jobId);
        continue;
      }
      return { jobId: reservation.jobId, name, deduplicated: true, joined: reservation.joined };
    }
  }

  /**
   * Whether a job is still to finish (waiting, delayed, active, or waiting for its children): a worker will
   * take it up again, so whatever it holds (a catalog's lease) is not to be taken from it. False for a job
   * that finished, failed for good, or was never one of this queue's (a name with a colon cannot be).
   */
  async isUnfinished(jobId: string): Promise<boolean> {
    if (jobId === '' || jobId.includes(':')) return false;
    const state = await this.queue.getJobState(jobId);
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  /** A reserved job that finished without being claimed, or that was never added by a producer that died. */
  private async isGone(jobId: string, reservedAt: number | undefined): Promise<boolean> {
    const state = await this.queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') return true;
    return state === 'unknown' && Date.now() - (reservedAt ?? 0) > ORPHAN_RESERVATION_MS;
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
