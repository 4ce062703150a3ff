import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { type CatalogRepository } from '@catalog-indexer/db';
import { AppError } from '@catalog-indexer/http';
import { type CatalogImporter } from '@catalog-indexer/importer';
import { type JobProducer } from '@catalog-indexer/queue';
import { reindexView, replaceQuery, toNewCatalog, view } from './catalogs.routes';

export interface ImportRoutesDeps {
  catalogs: CatalogRepository;
  jobs: JobProducer;
  importer: CatalogImporter;
  queueReady: RequestHandler;
}

/** The body of `POST /v1/catalogs/import`; the connection string is used to connect and then forgotten. */
export const importBody = z.strictObject({
  connectionString: z.string().min(1, 'give connectionString, e.g. postgres://user:password@host:5432/database').max(4096),
  schemas: z.array(z.string().min(1).max(128)).min(1).max(1000).optional(),
  name: z.string().trim().min(1).max(128).optional(),
  catalogId: z.uuid({ message: 'catalogId must be the UUID of a catalog' }).optional(),
  sampleValues: z.boolean().default(false),
});

/**
 * `POST /v1/catalogs/import`: reads a live PostgreSQL or MySQL/MariaDB database and stores its catalog as an
 * upload would; with `catalogId`, replaces that catalog and starts its reindex (unless `?reindex=false`).
 */
export function importRoutes({ catalogs, jobs, importer, queueReady }: ImportRoutesDeps): Router {
  const router = Router();
  router.post('/', queueReady, async (req, res) => {
    const { reindex } = replaceQuery.parse(req.query);
    const body = importBody.parse(req.body ?? {});
    if (body.catalogId && !(await catalogs.exists(body.catalogId))) throw new AppError('not_found', `no catalog ${body.catalogId}`);
    const { catalog, notes } = await importer.import(body);
    const parsed = toNewCatalog(catalog);
    if (!body.catalogId) {
      const row = await catalogs.create(parsed);
      req.log.info({ catalogId: row.id, items: parsed.items.length }, 'catalog imported');
      res.status(201).location(`/v1/catalogs/${row.id}`).json({ ...view(row), items: parsed.items.length, notes });
      return;
    }
    const row = await catalogs.replace(body.catalogId.toLowerCase(), parsed);
    if (!row) throw new AppError('not_found', `no catalog ${body.catalogId}`);
    const job = reindex === 'true' ? await jobs.enqueue('reindex', { catalogId: row.id }) : undefined;
    req.log.info({ catalogId: row.id, items: parsed.items.length, version: row.version }, 'catalog re-imported');
    res.json({ ...view(row), items: parsed.items.length, notes, ...reindexView(job) });
  });
  return router;
}
