import { PgvectorAdoptionRepository, LeaseRepository } from '@catalog-indexer/db';
import { PgvectorAdoptionService } from '@catalog-indexer/pipeline';
import { SourceVault, UnrecoverableError, type JobHandler } from '@catalog-indexer/queue';
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
  return { service, vault: new SourceVault(deps.producer.connection, config.queue.prefix) };
}

/** A connection string the api left in the vault, or null without a reference. */
async function resolve(vault: SourceVault, ref: string | undefined): Promise<string | null> {
  const url = ref ? await vault.get(ref) : null;
  if (ref && !url) throw new UnrecoverableError('the connection string of this job expired (kept one day): ask again');
  return url;
}

/** `pgvector-adoption` and `pgvector-rollback`: thin handlers over {@link PgvectorAdoptionService}. */
export function pgvectorJobs(deps: WorkerDeps): { 'pgvector-adoption': JobHandler<'pgvector-adoption'>; 'pgvector-rollback': JobHandler<'pgvector-rollback'> } {
  const { service, vault } = adoption(deps);
  return {
    'pgvector-adoption': async (payload, job) => {
      const sourceUrl = await resolve(vault, payload.sourceRef);
      const result = await service.adopt({ ...payload, sourceUrl }, job.id ?? 'pgvector-adoption', (p) => job.updateProgress(p));
      if (payload.sourceRef) await vault.forget(payload.sourceRef);
      return result;
    },
    'pgvector-rollback': async (payload, job) => {
      const targetUrl = await resolve(vault, payload.targetRef);
      const result = await service.rollback({ targetUrl, table: payload.table }, (p) => job.updateProgress(p));
      if (payload.targetRef) await vault.forget(payload.targetRef);
      return result;
    },
  };
}
