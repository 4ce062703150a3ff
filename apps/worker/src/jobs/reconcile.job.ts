import { summarizeDrifts, type ReconcileService, type SpaceSwitchService } from '@catalog-indexer/pipeline';
import { postpone, type JobHandler, type JobProducer } from '@catalog-indexer/queue';

/**
 * `reconcile`: compares rows with points and repairs both, for one catalog or for every catalog (the periodic
 * run, which also retries the delete outbox). Catalogs whose points were lost, or that hold pending rows of
 * stopped runs, get a reindex. The run over every catalog first carries a switch of embedding model or size
 * as far as it goes (see {@link SpaceSwitchService}); while catalogs held by other writers keep it from
 * finishing, the job waits and tries again.
 */
export const reconcileJob =
  (service: ReconcileService, producer: JobProducer, spaces?: SpaceSwitchService): JobHandler<'reconcile'> =>
  async (payload, job, { token }) => {
    const holder = job.id ?? 'reconcile';
    const space = !payload.catalogId && spaces ? await spaces.run(holder) : undefined;
    if (space?.state === 'switching') throw await postpone(job, token, 2_000);
    const drifts = payload.catalogId ? [await service.reconcileCatalog(payload.catalogId, holder)] : await service.reconcileAll(holder);
    if (payload.catalogId && drifts[0]?.status === 'busy') throw await postpone(job, token, 2_000);
    const reindexJobs: string[] = [];
    for (const drift of drifts.filter((d) => d.needsReindex)) reindexJobs.push((await producer.enqueue('reindex', { catalogId: drift.catalogId })).jobId);
    return { ...(space ? { space } : {}), ...summarizeDrifts(drifts), reindexJobs };
  };
