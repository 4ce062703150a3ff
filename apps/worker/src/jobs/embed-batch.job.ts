import { FencedError } from '@catalog-indexer/db';
import { type ReindexService, type SpaceSwitchService } from '@catalog-indexer/pipeline';
import { postpone, type JobHandler } from '@catalog-indexer/queue';

/**
 * `embed-batch`: embeds one planned batch of a reindex and writes its points (any worker process). Keeps the
 * catalog's lease alive while it works; a batch of a run that lost its lease stops without retrying; a batch
 * that another execution of the same job still holds waits for it.
 */
export const embedBatchJob =
  (service: ReindexService, spaces?: Pick<SpaceSwitchService, 'switching'>): JobHandler<'embed-batch'> =>
  async (payload, job, { signal, token }) => {
    // A batch planned before the switch of embedding space waits for it: its vectors would not fit.
    if (await spaces?.switching()) throw await postpone(job, token, 5_000);
    const stop = service.lease.keepAlive({ catalogId: payload.catalogId, fence: payload.fence });
    try {
      const result = await service.embedBatch(payload, payload.batch, signal);
      // Another execution of this batch holds its rows (this job was taken up again while it still runs).
      if (result.status === 'busy') throw await postpone(job, token, 2_000);
      return result;
    } catch (error) {
      if (error instanceof FencedError) return { status: 'fenced', embedded: 0, tokens: 0 };
      throw error;
    } finally {
      stop();
    }
  };
