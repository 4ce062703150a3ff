import { type ReindexOrchestrator } from '@catalog-indexer/pipeline';
import { postpone, type JobHandler } from '@catalog-indexer/queue';

/** `embed-batch`: embeds one planned batch of a reindex run and writes its points (any worker process). */
export const embedBatchJob =
  (orchestrator: ReindexOrchestrator): JobHandler<'embed-batch'> =>
  async (payload, job, { signal, token }) => {
    const step = await orchestrator.batch(payload, payload.batch, signal);
    if (step.kind === 'wait') throw await postpone(job, token, step.ms);
    return step.result;
  };
