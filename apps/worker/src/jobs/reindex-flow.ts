import { type ReindexPort, type ReindexState, type RunContext, type RunProgress } from '@catalog-indexer/pipeline';
import { jobCatalog, type Job, type JobCoalescer, type JobProducer } from '@catalog-indexer/queue';

/**
 * The {@link ReindexPort} of a reindex job on BullMQ: the run's state in the job's data, its batches as
 * child jobs of a flow (`embed-batch`, any worker takes them), the parent suspended in `waiting-children`
 * until they are done, and the coalesced requests of the catalog claimed and finished by the job.
 */
export class ReindexFlow implements ReindexPort {
  private readonly catalogId: string;
  private readonly jobId: string;

  constructor(
    private readonly job: Job,
    private readonly token: string | undefined,
    private readonly producer: JobProducer,
    private readonly coalescer: JobCoalescer,
  ) {
    this.catalogId = (job.data as { catalogId: string }).catalogId;
    this.jobId = job.id ?? '';
  }

  async saveState(state: ReindexState | null, force: boolean): Promise<void> {
    await this.job.updateData({ catalogId: this.catalogId, force, ...(state ? { state } : {}) });
  }

  async report(progress: RunProgress): Promise<void> {
    switch (progress.phase) {
      case 'planning':
        return;
      case 'planned': {
        const { phase: _phase, ...plan } = progress;
        return this.job.updateProgress({ phase: 'embedding', ...plan });
      }
      case 'activating':
        return this.job.updateProgress({ phase: 'activating' });
      case 'done': {
        const { chunks, embedded, skipped, deleted, tokens } = progress.result;
        return this.job.updateProgress({ phase: 'done', chunks, embedded, skipped, deleted, tokens });
      }
    }
  }

  async claim(): Promise<boolean> {
    return (await this.coalescer.claim('reindex', this.catalogId, this.jobId)) === true;
  }

  setVersion(version: number): Promise<void> {
    return this.coalescer.setVersion('reindex', this.catalogId, this.jobId, version);
  }

  finish(): Promise<void> {
    return this.coalescer.finish('reindex', this.catalogId, this.jobId);
  }

  async addBatches(run: RunContext, plan: number, batches: number[]): Promise<void> {
    const options = jobCatalog['embed-batch'].options;
    await this.producer.queue.addBulk(
      batches.map((batch) => ({
        name: 'embed-batch',
        data: { catalogId: run.catalogId, runId: run.runId, fence: run.fence, batch },
        opts: {
          ...options,
          jobId: `batch-${run.runId}-p${plan}-b${batch}`,
          parent: { id: this.jobId, queue: this.job.queueQualifiedName },
          // A batch that fails for good does not fail the reindex: activation finds its rows unembedded and plans again.
          ignoreDependencyOnFailure: true,
        },
      })),
    );
  }

  async waitForChildren(): Promise<'waiting' | 'done'> {
    // Back once every batch is done; at once when they already are.
    return this.token !== undefined && (await this.job.moveToWaitingChildren(this.token)) ? 'waiting' : 'done';
  }

  async followUp(force: boolean): Promise<string> {
    return (await this.producer.enqueue('reindex', { catalogId: this.catalogId, force })).jobId;
  }

  isLastAttempt(): boolean {
    return this.job.attemptsMade + 1 >= (this.job.opts.attempts ?? 1);
  }
}
