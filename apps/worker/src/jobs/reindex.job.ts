import { FencedError } from '@catalog-indexer/db';
import { type ReindexResult, type ReindexService, type RunContext, type SpaceSwitchService } from '@catalog-indexer/pipeline';
import {
  WaitingChildrenError,
  jobCatalog,
  postpone,
  type Job,
  type JobCoalescer,
  type JobHandler,
  type JobProducer,
  type ReindexState,
} from '@catalog-indexer/queue';

export interface ReindexJobDeps {
  service: ReindexService;
  coalescer: JobCoalescer;
  /** Adds the batch jobs and follow-ups. */
  producer: JobProducer;
  /** How long a job waits before trying again for a catalog another writer holds. */
  busyDelayMs?: number;
  /** While the index moves to another embedding model or size, reindexes wait for it. */
  spaces?: Pick<SpaceSwitchService, 'switching'>;
}

/** How long a job waits before looking again whether a switch of embedding space is over. */
export const SWITCH_WAIT_MS = 5_000;

/** Plans made by one run before it gives up (the catalog kept changing, or batches kept failing). */
const MAX_PLANS = 20;

/**
 * `reindex`: the parent of a fanned-out reindex, a small state machine kept in the job's data.
 * - begin: take the catalog's lease (or wait while another writer holds it), claim the coalesced requests;
 * - plan: write the planned rows, add one `embed-batch` child job per batch (any worker takes them) and wait
 *   for the children;
 * - activate: once every child is done, activate in one fenced transaction; plan again when the catalog
 *   changed meanwhile or a batch failed for good.
 * A retried or stalled parent resumes at its step with the same run and fence; a parent whose lease was
 * taken over abandons its run (its checkpoints stay) and asks for a follow-up reindex.
 */
export const reindexJob =
  (deps: ReindexJobDeps): JobHandler<'reindex'> =>
  async (payload, job, { token, signal }) => {
    const { service, coalescer } = deps;
    const catalogId = payload.catalogId;
    const jobId = job.id ?? '';
    let state = payload.state;
    let force = payload.force;
    // The served collection holds another space than this worker embeds in: its vectors would not fit.
    if (await deps.spaces?.switching()) throw await postpone(job, token, jitter(SWITCH_WAIT_MS));

    if (!state) {
      const begun = await service.begin(catalogId, jobId, { jobId, force });
      if (begun.kind === 'busy') throw await postpone(job, token, jitter(deps.busyDelayMs ?? 1_000));
      force = force || (await coalescer.claim('reindex', catalogId, jobId)) === true;
      if (begun.kind === 'missing') {
        await coalescer.finish('reindex', catalogId, jobId);
        return skipped('catalog not found');
      }
      state = { runId: begun.run.runId, fence: begun.run.fence, step: 'plan', plans: 0 };
      await job.updateData({ ...payload, force, state });
    } else {
      // A retried or resumed parent: its lease must still be its own, with the same fence.
      const fence = await service.lease.acquire(catalogId, jobId);
      if (!fence || fence.fence !== state.fence) {
        if (fence) await service.release({ catalogId, fence: fence.fence });
        await service.abandon({ runId: state.runId }, 'its lease was taken over while it waited');
        await job.updateData({ catalogId, force });
        throw await postpone(job, token, jitter(deps.busyDelayMs ?? 1_000));
      }
    }

    const run: RunContext = { catalogId, runId: state.runId, fence: state.fence, force, jobId };
    const stop = service.lease.keepAlive({ catalogId, fence: run.fence });
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (state.step === 'plan') {
          if (state.plans >= MAX_PLANS) throw new Error(`gave up after ${MAX_PLANS} plans: the catalog kept changing or batches kept failing`);
          const plan = await service.plan(run);
          const version = plan.kind === 'planned' ? plan.version : -1;
          state = { ...state, step: 'activate', version, plans: state.plans + 1 };
          await job.updateData({ ...payload, force, state });
          if (plan.kind === 'planned') {
            await coalescer.setVersion('reindex', catalogId, jobId, plan.version);
            await job.updateProgress({ phase: 'embedding', chunks: plan.chunks, skipped: plan.skipped, reused: plan.reused, toEmbed: plan.toEmbed, batches: plan.batches.length });
            if (plan.batches.length > 0) {
              await addBatches(deps.producer, job, run, state, plan.batches);
              // Back once every batch is done; at once when they already are.
              if (token !== undefined && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
            }
          }
        }
        await job.updateProgress({ phase: 'activating' });
        const outcome = await service.activate(run, state.version ?? -1);
        if (outcome.kind === 'replan') {
          state = { ...state, step: 'plan' };
          await job.updateData({ ...payload, force, state });
          continue;
        }
        await finish(deps, run);
        const r = outcome.result;
        await job.updateProgress({ phase: 'done', chunks: r.chunks, embedded: r.embedded, skipped: r.skipped, deleted: r.deleted, tokens: r.tokens });
        return r;
      }
    } catch (error) {
      if (error instanceof WaitingChildrenError) throw error;
      if (error instanceof FencedError) {
        await service.abandon(run, 'its lease was taken over by another writer');
        await deps.coalescer.finish('reindex', catalogId, jobId);
        const followUp = await deps.producer.enqueue('reindex', { catalogId, force });
        return { ...skipped('lease taken over by another writer'), status: 'abandoned', followUp: followUp.jobId };
      }
      if (isLastAttempt(job)) {
        await service.fail(run, error);
        await finish(deps, run);
      }
      throw error;
    } finally {
      stop();
    }
  };

async function addBatches(producer: JobProducer, job: Job, run: RunContext, state: ReindexState, batches: number[]): Promise<void> {
  const options = jobCatalog['embed-batch'].options;
  await producer.queue.addBulk(
    batches.map((batch) => ({
      name: 'embed-batch',
      data: { catalogId: run.catalogId, runId: run.runId, fence: run.fence, batch },
      opts: {
        ...options,
        jobId: `batch-${run.runId}-p${state.plans}-b${batch}`,
        parent: { id: job.id ?? '', queue: job.queueQualifiedName },
        // A batch that fails for good does not fail the reindex: activation finds its rows unembedded and plans again.
        ignoreDependencyOnFailure: true,
      },
    })),
  );
}

async function finish(deps: ReindexJobDeps, run: RunContext): Promise<void> {
  await deps.coalescer.finish('reindex', run.catalogId, run.jobId ?? '');
  await deps.service.release(run);
}

function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function skipped(reason: string): ReindexResult {
  return { status: 'skipped', reason, chunks: 0, embedded: 0, skipped: 0, deleted: 0, tokens: 0 };
}

function jitter(ms: number): number {
  return Math.round(ms * (0.5 + Math.random()));
}
