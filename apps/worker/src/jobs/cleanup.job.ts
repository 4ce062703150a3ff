import { type CleanupService } from '@catalog-indexer/pipeline';
import { postpone, type JobCoalescer, type JobHandler } from '@catalog-indexer/queue';

/** `cleanup`: removes rejected items, or a deleted catalog, from the index; waits while another writer holds the catalog. */
export const cleanupJob =
  (service: CleanupService, coalescer: JobCoalescer): JobHandler<'cleanup'> =>
  async (payload, job, { token }) => {
    const jobId = job.id ?? '';
    await coalescer.claim('cleanup', payload.catalogId, jobId);
    const result = await service.cleanup(payload.catalogId, { jobId, holder: jobId });
    if (result.status === 'busy') throw await postpone(job, token, Math.round(1_000 * (0.5 + Math.random())));
    await coalescer.finish('cleanup', payload.catalogId, jobId);
    return result;
  };
