import { Router } from 'express';
import { type CatalogRepository, type EmbeddingRepository, type IndexRunRepository, type PointDeletionRepository } from '@catalog-indexer/db';
import { AppError, READINESS_TIMEOUT_MS, uuidParam, withinMs } from '@catalog-indexer/http';
import { type JobProducer } from '@catalog-indexer/queue';

/** Counts the catalog's points in the vector store (null when it cannot be reached). */
export type PointCounter = (catalogId: string) => Promise<number | null>;

export interface IndexRoutesDeps {
  catalogs: CatalogRepository;
  runs: IndexRunRepository;
  embeddings: EmbeddingRepository;
  deletions: PointDeletionRepository;
  jobs: JobProducer;
  countPoints: PointCounter;
}

/** How long the index state waits for Postgres before answering 503. */
const POSTGRES_BOUND_MS = 5_000;

type RunRow = Awaited<ReturnType<IndexRunRepository['list']>>[number];

/** A run as the HTTP answers show it (`GET /v1/catalogs/:id/runs`, the index state's `lastRun`). */
export function runFields(r: RunRow) {
  return {
    id: r.id,
    mode: r.mode,
    status: r.status,
    jobId: r.jobId,
    catalogVersion: r.catalogVersion,
    embedded: r.embedded,
    skipped: r.skipped,
    deleted: r.deleted,
    tokens: r.tokens,
    tokensBilled: r.tokensBilled,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    error: r.error,
  };
}

function runView(r: RunRow | undefined) {
  return r ? { ...runFields(r), details: r.details } : null;
}

/** `/v1/catalogs/:id/index` (the state of a catalog's index) and `/v1/catalogs/:id/reconcile`. */
export function indexRoutes(deps: IndexRoutesDeps): Router {
  const router = Router();

  router.get('/:id/index', async (req, res) => {
    const id = uuidParam(req.params.id);
    // Bounded whatever the stores do: a Postgres that does not answer is a 503, a vector store that does not
    // answer leaves `points` null and says why.
    const catalog = await withinMs(deps.catalogs.get(id), POSTGRES_BOUND_MS, 'Postgres');
    if (!catalog) throw new AppError('not_found', `no catalog ${id}`);
    let pointsError: string | undefined;
    const counting = withinMs(deps.countPoints(id), READINESS_TIMEOUT_MS, 'the vector store (Qdrant)').catch((error: unknown) => {
      pointsError = error instanceof Error ? error.message : String(error);
      return null;
    });
    const [rows, points, outbox, runs, reconciles] = await withinMs(
      Promise.all([deps.embeddings.counts(id), counting, deps.deletions.pendingCount(id), deps.runs.list(id, 1), deps.runs.list(id, 1, 'reconcile')]),
      POSTGRES_BOUND_MS,
      'Postgres',
    );
    const lastReconcile = reconciles[0];
    res.json({
      catalogId: id,
      version: catalog.version,
      rows,
      points,
      ...(points === null ? { pointsError: pointsError ?? 'the vector store could not be reached' } : {}),
      inStep: points === null ? null : points === rows.active + rows.pending && outbox === 0,
      pendingPointDeletes: outbox,
      drift: lastReconcile
        ? {
            checkedAt: lastReconcile.finishedAt ?? lastReconcile.startedAt,
            found: lastReconcile.details ?? null,
            repaired: lastReconcile.status === 'completed',
          }
        : null,
      lastRun: runView(runs[0]),
    });
  });

  /** Whether rows, runs or points of a catalog that no longer exists are left. */
  const leftovers = async (id: string): Promise<boolean> => {
    const [rows, runs] = await Promise.all([deps.embeddings.counts(id), deps.runs.list(id, 1)]);
    if (rows.active + rows.pending > 0 || runs.length > 0) return true;
    const points = await withinMs(deps.countPoints(id), READINESS_TIMEOUT_MS, 'the vector store (Qdrant)').catch(() => null);
    return points !== null && points > 0;
  };

  router.post('/:id/reconcile', async (req, res) => {
    const id = uuidParam(req.params.id);
    // A deleted catalog may be reconciled as long as anything of it is left (rows, runs, points): that
    // removes its index at once rather than at the next scheduled reconcile.
    const deleted = !(await deps.catalogs.exists(id));
    if (deleted && !(await leftovers(id))) throw new AppError('not_found', `no catalog ${id}, and nothing of its index is left to reconcile`);
    const job = await deps.jobs.enqueue('reconcile', { catalogId: id });
    res.status(202).json({ ...job, catalogId: id, ...(deleted ? { catalogDeleted: true } : {}), statusUrl: `/v1/jobs/${job.jobId}` });
  });

  return router;
}
