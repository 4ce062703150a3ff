import { type JobHandler } from '@catalog-indexer/queue';
import { type ReindexService } from '@catalog-indexer/pipeline';

/** `reindex`: brings the catalog's index in line with its content. */
export const reindexJob =
  (service: ReindexService): JobHandler<'reindex'> =>
  (payload, job, signal) =>
    service.reindex(payload.catalogId, {
      jobId: job.id ?? null,
      force: payload.force,
      signal,
      onProgress: (progress) => job.updateProgress(progress),
    });
