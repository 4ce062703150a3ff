import { randomUUID } from 'node:crypto';
import { ReindexOrchestrator, type ReindexOrchestratorOptions, type ReindexPort, type ReindexState, type ReindexStep, type RunProgress } from './reindex-orchestrator';
import { type ReindexResult, type ReindexService, type RunContext } from './reindex.service';

export interface ReindexOptions {
  /** Recorded on the run, and the lease's holder. */
  jobId?: string | null;
  /** Embed every chunk again, even when its content hash is unchanged. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ReindexProgress) => Promise<void> | void;
}

export interface ReindexProgress {
  phase: 'planning' | 'embedding' | 'activating';
  embedded: number;
  toEmbed: number;
}

/**
 * The {@link ReindexPort} of a run carried in this process (tests, benchmarks, one-process setups): the
 * batches run here, a few at a time, while the orchestrator waits for them; a job has one attempt, and no
 * queue takes follow-ups. A batch that fails fails the run.
 */
export class InProcessFanOut implements ReindexPort {
  private batches: { run: RunContext; batch: number }[] = [];
  private embedded = 0;
  private toEmbed = 0;
  /** The run's state as the orchestrator last saved it (null once the run was lost). */
  state: ReindexState | null = null;

  constructor(
    private readonly orchestrator: ReindexOrchestrator,
    private readonly concurrency: number,
    private readonly options: Pick<ReindexOptions, 'signal' | 'onProgress'> = {},
  ) {}

  saveState(state: ReindexState | null): Promise<void> {
    this.state = state;
    return Promise.resolve();
  }

  async report(progress: RunProgress): Promise<void> {
    const { onProgress } = this.options;
    switch (progress.phase) {
      case 'planning':
        this.embedded = 0;
        this.toEmbed = 0;
        await onProgress?.({ phase: 'planning', embedded: 0, toEmbed: 0 });
        break;
      case 'planned':
        this.toEmbed = progress.toEmbed;
        break;
      case 'activating':
        await onProgress?.({ phase: 'activating', embedded: this.embedded, toEmbed: this.toEmbed });
        break;
      case 'done':
        break;
    }
  }

  claim(): Promise<boolean> {
    return Promise.resolve(false);
  }

  setVersion(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  addBatches(run: RunContext, _plan: number, batches: number[]): Promise<void> {
    this.batches = batches.map((batch) => ({ run, batch }));
    return Promise.resolve();
  }

  async waitForChildren(): Promise<'done'> {
    const { signal, onProgress } = this.options;
    const batches = this.batches;
    this.batches = [];
    await runBounded(batches, this.concurrency, async ({ run, batch }) => {
      for (;;) {
        signal?.throwIfAborted();
        const step = await this.orchestrator.batch(run, batch, signal);
        if (step.kind === 'wait') {
          await new Promise((r) => setTimeout(r, step.ms));
          continue;
        }
        this.embedded += step.result.embedded;
        await onProgress?.({ phase: 'embedding', embedded: this.embedded, toEmbed: this.toEmbed });
        return;
      }
    });
    return 'done';
  }

  followUp(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  isLastAttempt(): boolean {
    return true;
  }
}

/**
 * A whole reindex of a catalog in this process, conducted by the {@link ReindexOrchestrator} over an
 * {@link InProcessFanOut}. Throws while another writer holds the catalog.
 */
export async function reindexInProcess(
  service: ReindexService,
  catalogId: string,
  options: ReindexOptions = {},
  orchestration: ReindexOrchestratorOptions = {},
): Promise<ReindexResult> {
  const orchestrator = new ReindexOrchestrator(service, orchestration);
  const port = new InProcessFanOut(orchestrator, service.inlineConcurrency, options);
  const attempt = {
    catalogId,
    jobId: options.jobId ?? null,
    holder: options.jobId ?? `inline-${randomUUID()}`,
    force: options.force ?? false,
    signal: options.signal,
  };
  let step: ReindexStep = await orchestrator.step(attempt, port);
  // A run that plans again after a delay (its batches failed for good) keeps its lease and goes on here.
  while (step.kind === 'wait' && port.state) {
    const { ms } = step;
    await new Promise((r) => setTimeout(r, ms));
    step = await orchestrator.step({ ...attempt, state: port.state }, port);
  }
  if (step.kind === 'done') return step.result;
  throw new Error(`catalog ${catalogId} is being written by another run`);
}

/** Runs `work` over `items` with at most `limit` in flight; the first failure rejects once all settled. */
export async function runBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;
}
