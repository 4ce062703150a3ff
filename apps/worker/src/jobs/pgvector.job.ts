import { PgvectorAdoptionRepository, LeaseRepository } from '@catalog-indexer/db';
import { PgvectorAdoptionService } from '@catalog-indexer/pipeline';
import { SourceVault, UnrecoverableError, type Job, type JobHandler } from '@catalog-indexer/queue';
import { type WorkerDeps } from '../workers';

/** The adoption service of this worker, and the vault the api left connection strings in. */
function adoption(deps: WorkerDeps): { service: PgvectorAdoptionService; vault: SourceVault } {
  const { config } = deps;
  const service = new PgvectorAdoptionService({
    adoptions: new PgvectorAdoptionRepository(deps.dataSource),
    leases: new LeaseRepository(deps.dataSource),
    store: deps.store,
    logger: deps.logger.child({ component: 'pgvector' }),
    space: { provider: config.embeddings.provider, model: config.embeddings.model, dimensions: config.embeddings.dimensions },
    databaseUrl: config.postgres.url,
    allowedHosts: config.import.allowedHosts,
    leaseTtlMs: config.worker.leaseTtlMs,
  });
  return { service, vault: new SourceVault(deps.producer.connection, config.queue.prefix, config.sourceVault.secret) };
}

/**
 * Runs `work` with the connection string the api left in the vault under `ref` (null without a reference),
 * kept from expiring meanwhile, and forgets it when the job ends: done, or failed with no attempt left.
 */
async function withSource<T>(vault: SourceVault, ref: string | undefined, job: Job, work: (url: string | null) => Promise<T>): Promise<T> {
  if (!ref) return work(null);
  let ended = true;
  try {
    const url = await vault.get(ref);
    if (!url) throw new UnrecoverableError('the connection string of this job expired or was already used: ask again');
    const stop = vault.keepAlive(ref);
    try {
      return await work(url);
    } finally {
      stop();
    }
  } catch (error) {
    const permanent = error instanceof UnrecoverableError || (error as { permanent?: unknown }).permanent === true;
    ended = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    throw error;
  } finally {
    if (ended) await vault.forget(ref);
  }
}

/** `pgvector-adoption` and `pgvector-rollback`: thin handlers over {@link PgvectorAdoptionService}. */
export function pgvectorJobs(deps: WorkerDeps): { 'pgvector-adoption': JobHandler<'pgvector-adoption'>; 'pgvector-rollback': JobHandler<'pgvector-rollback'> } {
  const { service, vault } = adoption(deps);
  return {
    'pgvector-adoption': (payload, job) =>
      withSource(vault, payload.sourceRef, job, (sourceUrl) => service.adopt({ ...payload, sourceUrl }, job.id ?? 'pgvector-adoption', (p) => job.updateProgress(p))),
    'pgvector-rollback': (payload, job) =>
      withSource(vault, payload.targetRef, job, (targetUrl) => service.rollback({ targetUrl, table: payload.table }, (p) => job.updateProgress(p))),
  };
}
