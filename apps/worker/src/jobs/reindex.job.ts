import { type ReindexOrchestrator } from '@catalog-indexer/pipeline';
import { WaitingChildrenError, postpone, type JobCoalescer, type JobHandler, type JobProducer } from '@catalog-indexer/queue';
import { ReindexFlow } from './reindex-flow';

/** `reindex`: the parent job of a fanned-out reindex run; the pipeline's orchestrator conducts it (see {@link ReindexOrchestrator}). */
export const reindexJob =
  (orchestrator: ReindexOrchestrator, producer: JobProducer, coalescer: JobCoalescer): JobHandler<'reindex'> =>
  async (payload, job, { token, signal }) => {
    const attempt = { catalogId: payload.catalogId, jobId: job.id ?? '', holder: job.id ?? '', force: payload.force, state: payload.state, signal };
    const step = await orchestrator.step(attempt, new ReindexFlow(job, token, producer, coalescer));
    if (step.kind === 'wait') throw await postpone(job, token, step.ms);
    if (step.kind === 'suspended') throw new WaitingChildrenError();
    return step.result;
  };
