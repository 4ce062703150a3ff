import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { PgvectorAdoptionRepository, type DataSource } from '@catalog-indexer/db';
import { checkAdoption, checkRollback, type ServedSpace } from '@catalog-indexer/importer';
import { jobCatalog, parsePayload, SourceVault, type JobName, type JobProducer } from '@catalog-indexer/queue';

export interface MigrationRoutesDeps {
  dataSource: DataSource;
  jobs: JobProducer;
  queueReady: RequestHandler;
  /** The space this install serves and its own database (the source of an adoption in place). */
  pgvector: { space: ServedSpace; databaseUrl: string; queuePrefix: string; allowedHosts?: readonly string[]; /** `config.sourceVault.secret`. */ vaultSecret: string };
}

const table = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'table is a table name, optionally schema.table').max(128);
const url = z.string().min(1).max(4096);

/** The body of `POST /v1/migrations/pgvector`; the source's connection string never reaches job data or logs. */
export const adoptionBody = z.strictObject({
  sourceUrl: url.optional().describe('a separate pgvector-era database; absent: this install’s own database, table dq_embeddings_pgvector'),
  table: table.optional(),
  model: z.string().min(1).max(128).optional().describe('the model the legacy vectors came from (default text-embedding-3-large)'),
  dryRun: z.boolean().default(false),
  dropLegacy: z.boolean().default(false),
});

export const rollbackBody = z.strictObject({
  targetUrl: url.optional().describe('the pgvector-era database to write the vectors back to; absent: this install’s own database'),
  table: table.optional(),
});

/**
 * `POST /v1/migrations/pgvector` and `/rollback`: check the source (reachable, a vector table, vectors of
 * the served space; for dropLegacy a verified adoption) before anything is written, then enqueue the job.
 * A connection string goes to the {@link SourceVault}, encrypted; the job carries only its reference.
 */
export function migrationRoutes(deps: MigrationRoutesDeps): Router {
  const router = Router();
  const vault = new SourceVault(deps.jobs.connection, deps.pgvector.queuePrefix, deps.pgvector.vaultSecret);
  const checks = { adoptions: new PgvectorAdoptionRepository(deps.dataSource), space: deps.pgvector.space, databaseUrl: deps.pgvector.databaseUrl, allowedHosts: deps.pgvector.allowedHosts };
  const add = async (name: JobName, data: Record<string, unknown>) => {
    const job = await deps.jobs.queue.add(name, parsePayload(name, data), { ...jobCatalog[name].options, jobId: `${name}-${crypto.randomUUID()}` });
    return { jobId: job.id ?? '', statusUrl: `/v1/jobs/${job.id ?? ''}` };
  };
  router.post('/pgvector', deps.queueReady, async (req, res) => {
    const body = adoptionBody.parse(req.body ?? {});
    const { source, layout } = await checkAdoption(checks, body);
    const { sourceUrl, ...rest } = body;
    const sourceRef = sourceUrl ? await vault.put(sourceUrl) : undefined;
    const job = await add('pgvector-adoption', { ...rest, sourceRef });
    req.log.info({ jobId: job.jobId, source, rows: layout.rows, dimensions: layout.dimensions, dryRun: body.dryRun }, 'pgvector adoption enqueued');
    res.status(202).json({ ...job, source, table: layout.table, rows: layout.rows, dimensions: layout.dimensions });
  });
  router.post('/pgvector/rollback', deps.queueReady, async (req, res) => {
    const body = rollbackBody.parse(req.body ?? {});
    await checkRollback(checks, body);
    const targetRef = body.targetUrl ? await vault.put(body.targetUrl) : undefined;
    const job = await add('pgvector-rollback', { table: body.table, targetRef });
    req.log.info({ jobId: job.jobId }, 'pgvector rollback enqueued');
    res.status(202).json(job);
  });
  return router;
}
