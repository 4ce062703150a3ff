import { type JobHandler } from '@catalog-indexer/queue';
import { type CleanupService } from '@catalog-indexer/pipeline';

/** `cleanup`: removes rejected items, or a deleted catalog, from the index. */
export const cleanupJob =
  (service: CleanupService): JobHandler<'cleanup'> =>
  (payload, job) =>
    service.cleanup(payload.catalogId, { jobId: job.id ?? null });
