import { measureServing, type EmbeddingRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { type JobProducer } from '@catalog-indexer/queue';
import { type QdrantStore } from '@catalog-indexer/vector-store';

export interface IndexWatchDeps {
  store: QdrantStore;
  embeddings: EmbeddingRepository;
  producer: JobProducer;
  logger: Logger;
  /** How often the served collection is compared with Postgres. */
  intervalMs?: number;
  /** While a loss lasts, how often the reconcile is asked for again. */
  repeatMs?: number;
}

/**
 * Notices at once when the vector store lost the index (Qdrant back empty, the collection dropped): the
 * served collection missing, or points of active rows missing (see `measureServing`: points are written
 * before their rows become active and deleted after their rows go, so that never happens otherwise). It then asks
 * for a reconcile, which recreates the collection and reindexes every catalog that lost points, instead of
 * leaving the index empty until the next scheduled reconcile. Returns a function that stops watching.
 */
export function watchIndex(deps: IndexWatchDeps): () => void {
  const intervalMs = deps.intervalMs ?? 3_000;
  const repeatMs = deps.repeatMs ?? 60_000;
  let askedAt = 0;
  let busy = false;
  const check = async () => {
    const { rows, served, points } = await measureServing(deps.embeddings, {
      countPoints: () => deps.store.countAll(),
      existingIds: (ids) => deps.store.existingIds(ids),
    });
    if (points !== null && served >= rows) {
      askedAt = 0;
      return;
    }
    if (Date.now() - askedAt < repeatMs) return;
    askedAt = Date.now();
    const job = await deps.producer.enqueue('reconcile', {});
    deps.logger.warn(
      { collection: deps.store.collection, points, served, rows, jobId: job.jobId },
      points === null ? 'the index collection is missing from the vector store: reconcile asked for to rebuild it' : 'the vector store lost points of the index: reconcile asked for to rebuild them',
    );
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    // A dependency that is down is the readiness check's to report; the watch tries again next time.
    check()
      .catch((error: unknown) => deps.logger.debug({ err: error }, 'index watch: could not compare the stores'))
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
