import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { flattenItems, parseCatalogWithNotices } from '@catalog-indexer/catalog';
import { type CatalogRepository, type CatalogRow, type IndexRunRepository } from '@catalog-indexer/db';
import { AppError, uuidParam } from '@catalog-indexer/http';
import { type EnqueuedJob, type JobInput, type JobProducer } from '@catalog-indexer/queue';
import { TrailingSingleFlight } from '../single-flight';
import { runFields } from './index.routes';

export interface CatalogRoutesDeps {
  catalogs: CatalogRepository;
  runs: IndexRunRepository;
  jobs: JobProducer;
  /** Answers 503 before any write when the job queue cannot take a job. */
  queueReady: RequestHandler;
}

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export const reindexBody = z.strictObject({ force: z.boolean().default(false) });
/** `?reindex=false` stores a replacement without starting the reindex that otherwise follows it. */
export const replaceQuery = z.object({
  reindex: z.enum(['true', 'false'], { message: 'reindex must be "true" or "false"' }).default('true'),
});
export const itemsBody = z
  .strictObject({
    reject: z.array(z.string().min(1)).max(10_000).default([]),
    restore: z.array(z.string().min(1)).max(10_000).default([]),
  })
  .refine((b) => b.reject.length + b.restore.length > 0, { message: 'give item keys in "reject" or "restore"' })
  .refine((b) => !b.reject.some((k) => b.restore.includes(k)), { message: 'a key cannot be both rejected and restored' });

/** A catalog row as the api shows it. */
export function view(row: CatalogRow, withDocument = false): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ...(withDocument ? { document: row.document } : {}),
  };
}

/** How long a catalog seen to exist is taken to exist by reindex and cleanup requests. */
const EXISTS_TTL_MS = 1_000;

/** The part of an answer that names the reindex a replacement started, if it started one. */
export function reindexView(job: EnqueuedJob | undefined): Record<string, unknown> {
  return job ? { jobId: job.jobId, deduplicated: job.deduplicated, statusUrl: `/v1/jobs/${job.jobId}` } : { jobId: null };
}

/** Parses an upload into what the repository stores; throws a 400 listing every problem. */
export function toNewCatalog(body: unknown) {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new AppError('invalid_catalog', 'send the catalog as a JSON object in the body');
  }
  const { catalog, notices } = parseCatalogWithNotices(body);
  return {
    notices,
    name: catalog.name,
    description: catalog.description ?? null,
    document: catalog as unknown as Record<string, unknown>,
    items: flattenItems(catalog),
  };
}

/** `/v1/catalogs`: store, read, replace, delete catalogs; reject items; start reindex and cleanup jobs. */
export function catalogRoutes({ catalogs, runs, jobs, queueReady }: CatalogRoutesDeps): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const parsed = toNewCatalog(req.body);
    const row = await catalogs.create(parsed);
    req.log.info({ catalogId: row.id, items: parsed.items.length }, 'catalog stored');
    res.status(201).location(`/v1/catalogs/${row.id}`).json({ ...view(row), items: parsed.items.length, notices: parsed.notices });
  });

  router.get('/', async (req, res) => {
    const { limit, offset } = listQuery.parse(req.query);
    res.json({ catalogs: await catalogs.list(limit, offset), limit, offset });
  });

  router.get('/:id', async (req, res) => {
    const row = await catalogs.get(uuidParam(req.params.id));
    if (!row) throw new AppError('not_found', `no catalog ${req.params.id}`);
    res.json(view(row, true));
  });

  router.put('/:id', queueReady, async (req, res) => {
    const id = uuidParam(req.params.id);
    const { reindex } = replaceQuery.parse(req.query);
    const parsed = toNewCatalog(req.body);
    const row = await catalogs.replace(id, parsed);
    if (!row) throw new AppError('not_found', `no catalog ${id}`);
    seen.delete(id);
    const job = reindex === 'true' ? await jobs.enqueue('reindex', { catalogId: id }, { version: row.version }) : undefined;
    res.json({ ...view(row), items: parsed.items.length, notices: parsed.notices, ...reindexView(job) });
  });

  router.delete('/:id', queueReady, async (req, res) => {
    const id = uuidParam(req.params.id);
    seen.delete(id);
    if (!(await catalogs.delete(id))) throw new AppError('not_found', `no catalog ${id}`);
    const job = await jobs.enqueue('cleanup', { catalogId: id, catalogDeleted: true });
    res.status(202).json({ id, deleted: true, jobId: job.jobId });
  });

  router.patch('/:id/items', async (req, res) => {
    const id = uuidParam(req.params.id);
    const body = itemsBody.parse(req.body ?? {});
    if (!(await catalogs.exists(id))) throw new AppError('not_found', `no catalog ${id}`);
    const { unknownKeys } = await catalogs.updateRejections(id, body);
    if (unknownKeys.length > 0) {
      throw new AppError('unknown_keys', `no items with these keys (nothing was changed): ${unknownKeys.join(', ')}`, {
        unknownKeys,
      });
    }
    res.json({ id, rejected: body.reject, restored: body.restore, hint: 'POST /v1/catalogs/:id/cleanup removes rejected items from the index' });
  });

  // Many requests for the same catalog at once cost one existence check and one enqueue per round, each
  // started after the requests it answers arrived (see TrailingSingleFlight), so each gets its own job's id.
  // A catalog seen to exist is taken to exist for a second (forgotten at once when this process deletes it):
  // a job for a catalog another process deleted meanwhile finds no catalog and ends as "skipped".
  // The version seen goes with the request, so a forced request can join a forced run of that version.
  const seen = new Map<string, { until: number; version: number }>();
  const versionOf = async (id: string): Promise<number | null> => {
    const known = seen.get(id);
    if (known && known.until > Date.now()) return known.version;
    const version = await catalogs.version(id);
    if (version !== null) seen.set(id, { until: Date.now() + EXISTS_TTL_MS, version });
    if (seen.size > 10_000) seen.clear();
    return version;
  };
  const start = <N extends 'reindex' | 'cleanup'>(name: N) =>
    new TrailingSingleFlight<string, boolean, EnqueuedJob | null>(async (id, forced) => {
      const version = await versionOf(id);
      if (version === null) return forced.map(() => null);
      const input = name === 'reindex' ? { catalogId: id, force: forced.some(Boolean) } : { catalogId: id };
      const job = await jobs.enqueue(name, input as JobInput<N>, { version });
      return forced.map((_, i) => (i === 0 ? job : { ...job, deduplicated: true }));
    });
  const reindexes = start('reindex');
  const cleanups = start('cleanup');

  router.post('/:id/reindex', queueReady, async (req, res) => {
    const id = uuidParam(req.params.id);
    const body = reindexBody.parse(req.body ?? {});
    const job = await reindexes.run(id, body.force);
    if (!job) throw new AppError('not_found', `no catalog ${id}`);
    res.status(202).json({ ...job, catalogId: id, statusUrl: `/v1/jobs/${job.jobId}` });
  });

  router.post('/:id/cleanup', queueReady, async (req, res) => {
    const id = uuidParam(req.params.id);
    const job = await cleanups.run(id, false);
    if (!job) throw new AppError('not_found', `no catalog ${id}`);
    res.status(202).json({ ...job, catalogId: id, statusUrl: `/v1/jobs/${job.jobId}` });
  });

  router.get('/:id/runs', async (req, res) => {
    const id = uuidParam(req.params.id);
    if (!(await catalogs.exists(id))) throw new AppError('not_found', `no catalog ${id}`);
    const rows = await runs.list(id);
    res.json({
      runs: rows.map(runFields),
    });
  });

  return router;
}
