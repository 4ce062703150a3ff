import { FencedError } from '@catalog-indexer/db';
import { type ReindexService } from '@catalog-indexer/pipeline';
import { type JobHandler } from '@catalog-indexer/queue';

/**
 * `embed-batch`: embeds one planned batch of a reindex and writes its points (any worker process). Keeps the
 * catalog's lease alive while it works; a batch of a run that lost its lease stops without retrying.
 */
export const embedBatchJob =
  (service: ReindexService): JobHandler<'embed-batch'> =>
  async (payload, _job, { signal }) => {
    const stop = service.lease.keepAlive({ catalogId: payload.catalogId, fence: payload.fence });
    try {
      return await service.embedBatch(payload, payload.batch, signal);
    } catch (error) {
      if (error instanceof FencedError) return { status: 'fenced', embedded: 0, tokens: 0 };
      throw error;
    } finally {
      stop();
    }
  };
