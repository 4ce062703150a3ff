import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger } from '@catalog-indexer/logger';
import { QDRANT_BACKOFF, backoffDelay, isRetryableStatus } from '@catalog-indexer/retry';
import { type KeywordCondition, type PointsFilter, type PointsTransport, type ScrollRequest, type ScrolledPoint } from './points-transport';
import { type QdrantConnection } from './qdrant.connection';
import { describe, retryAfterMs, statusOf, storeError } from './qdrant.errors';
import { VECTOR_NAMES, type HybridQuery, type SearchHit, type SearchOptions, type VectorPoint } from './qdrant.types';

export interface QdrantPointsOptions {
  /** The collection, or the alias of one, whose points these are. */
  collection: string;
  /** Points per upsert request (Qdrant advises 64-256). */
  upsertBatchSize?: number;
  /** Upsert requests in flight at once (Qdrant advises 2-4). */
  upsertParallelism?: number;
  /** Attempts of each write before giving up. */
  writeAttempts?: number;
  /**
   * Called with the error of a request that failed; true when it made the request worth sending again (a
   * writer recreates a missing collection here: see `QdrantCollections.recreateIfMissing`). Without it, a
   * missing collection is an error like any other, and nothing is ever created.
   */
  recover?: (error: unknown) => Promise<boolean>;
  logger?: Logger;
}

/** Longest `Retry-After` a write waits before its next attempt; a longer one is cut to this. */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * The points of one collection: writes in parallel batches with `wait=true` and retries, deletes, the
 * filtered hybrid query, and the scroll and count the pipeline needs to check that both stores agree. Each
 * request goes over the connection's points transport (REST or gRPC); retries, recovery and errors are the
 * same on both.
 */
export class QdrantPoints {
  readonly collection: string;
  private readonly batchSize: number;
  private readonly parallelism: number;
  private readonly attempts: number;
  private readonly recover: ((error: unknown) => Promise<boolean>) | undefined;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly connection: QdrantConnection,
    options: QdrantPointsOptions,
  ) {
    this.collection = options.collection;
    this.batchSize = options.upsertBatchSize ?? 128;
    this.parallelism = options.upsertParallelism ?? 3;
    this.attempts = options.writeAttempts ?? 4;
    this.recover = options.recover;
    this.logger = options.logger;
  }

  /**
   * Writes points in batches, a few requests at a time, each with `wait=true` and retries. On a batch that
   * fails for good no further batch starts, and the call rejects once the batches in flight have settled.
   */
  async upsert(points: VectorPoint[]): Promise<void> {
    const batches: VectorPoint[][] = [];
    for (let i = 0; i < points.length; i += this.batchSize) batches.push(points.slice(i, i + this.batchSize));
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      // Once a batch has failed for good the caller gets the error; the other lanes stop taking batches.
      while (!failed && next < batches.length) {
        const batch = batches[next++];
        if (!batch) return;
        try {
          const points = batch.map((p) => ({ id: p.id, dense: p.vector, sparse: p.sparse, payload: p.payload }));
          await this.withRetries('upsert points', (t) => t.upsert(this.collection, points));
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    // Settle every lane before answering, so no write of this call is still in flight when it rejects.
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(this.parallelism, batches.length) }, lane));
    const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (rejected) throw rejected.reason;
  }

  /** Deletes points by id (`wait=true`, retried). Missing ids are not an error. */
  async deleteIds(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      const batch = ids.slice(i, i + 1000);
      await this.withRetries('delete points', (t) => t.deleteIds(this.collection, batch));
    }
  }

  /** Deletes every point of a catalog. */
  async deleteCatalog(catalogId: string): Promise<void> {
    await this.withRetries('delete catalog points', (t) => t.deleteWhere(this.collection, ofCatalog(catalogId)));
  }

  /**
   * The points of one catalog nearest to a question, best first, through `POST /points/query`: a dense and
   * a sparse prefetch, each filtered to the catalog (and the optional kinds, schemas, tables) and each
   * returning `prefetchLimit` points, fused by weighted reciprocal rank fusion.
   */
  async search(query: HybridQuery, options: SearchOptions): Promise<SearchHit[]> {
    const must: KeywordCondition[] = [{ key: 'catalog_id', value: options.catalogId }];
    if (options.kinds?.length) must.push({ key: 'kind', any: options.kinds });
    if (options.schemas?.length) must.push({ key: 'schema', any: options.schemas });
    if (options.tables?.length) must.push({ key: 'table', any: options.tables });
    const { fusion } = options;
    const request = {
      dense: query.dense,
      sparse: query.sparse,
      filter: { must },
      prefetchLimit: Math.max(fusion.prefetchLimit, options.limit),
      k: fusion.k,
      weights: [fusion.denseWeight, fusion.sparseWeight] as [number, number],
      limit: options.limit,
      payload: options.payload ?? [],
    };
    const points = await this.call(
      'query points',
      (t) => t.hybrid(options.collection ?? this.collection, request),
      // A pinned collection that is gone was retired by a switch: the caller resolves the alias again.
      options.collection === undefined,
    );
    return points.map((p) => (p.payload ? { id: p.id, score: p.score, payload: p.payload } : { id: p.id, score: p.score }));
  }

  /** The dense vectors of the points among `ids` that exist, by id (Qdrant keeps cosine vectors normalised). */
  async denseVectors(ids: readonly string[]): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    for (let i = 0; i < ids.length; i += 256) {
      const batch = ids.slice(i, i + 256);
      const points = await this.call('retrieve points', (t) => t.denseVectors(this.collection, batch, VECTOR_NAMES.dense));
      for (const p of points) found.set(p.id, p.vector);
    }
    return found;
  }

  /** Which of `ids` have a point. */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 256) {
      const batch = ids.slice(i, i + 256);
      for (const id of await this.call('retrieve points', (t) => t.existingIds(this.collection, batch))) found.add(id);
    }
    return found;
  }

  /** The ids of the `limit` points of a catalog nearest to `vector` by the dense vector alone, best first. */
  async nearestDense(catalogId: string, vector: Float32Array | number[], limit: number): Promise<string[]> {
    return this.call('query points', (t) => t.nearestDense(this.collection, vector, VECTOR_NAMES.dense, ofCatalog(catalogId), limit));
  }

  /** The number of points of a catalog (exact). */
  async count(catalogId: string): Promise<number> {
    return this.call('count points', (t) => t.count(this.collection, ofCatalog(catalogId)));
  }

  /** Every point id of a catalog. */
  async listIds(catalogId: string): Promise<string[]> {
    const ids: string[] = [];
    const pages = this.scroll('scroll points', { filter: ofCatalog(catalogId), limit: 1000, payload: false, vectors: false });
    for await (const page of pages) for (const p of page) ids.push(p.id);
    return ids;
  }

  /** The distinct `catalog_id`s of every point in the collection (the reconciler's view of Qdrant's tenants). */
  async catalogIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const page of this.scroll('scroll catalog ids', { limit: 1000, payload: ['catalog_id'], vectors: false })) {
      for (const p of page) {
        const id = p.payload?.catalog_id;
        if (typeof id === 'string') ids.add(id);
      }
    }
    return ids;
  }

  /**
   * Every point of this collection with its payload and its vector as stored (one unnamed vector, or named
   * vectors), a page at a time, in scroll order.
   */
  async *scrollPoints(pageSize = 256): AsyncGenerator<{ id: string; vector: unknown; payload: Record<string, unknown> }[]> {
    for await (const page of this.scroll('scroll points', { limit: pageSize, payload: true, vectors: true })) {
      yield page.map((p) => ({ id: p.id, vector: p.vector, payload: p.payload ?? {} }));
    }
  }

  /** The one scroll loop: the pages of `request`, following the next page's offset until there is none. */
  private async *scroll(what: string, request: Omit<ScrollRequest, 'offset'>): AsyncGenerator<ScrolledPoint[]> {
    let offset: string | number | undefined = undefined;
    do {
      const from: string | number | undefined = offset;
      const page: { points: ScrolledPoint[]; next: string | number | undefined } = await this.call(what, (t) => t.scroll(this.collection, from === undefined ? request : { ...request, offset: from }));
      yield page.points;
      offset = page.next;
    } while (offset !== undefined);
  }

  /** One request; with `recover` (and a recovery hook), a request the hook made worth it is sent once more. */
  private async call<T>(what: string, fn: (points: PointsTransport) => Promise<T>, recover = true): Promise<T> {
    try {
      return await this.connection.pointsRequest(what, fn);
    } catch (error) {
      if (recover && (await this.recover?.(error))) return this.call(what, fn, false);
      throw storeError(what, error);
    }
  }

  /**
   * Retries writes on 429, 5xx and network errors with exponential backoff ({@link QDRANT_BACKOFF}) or the
   * 429's `Retry-After`; other 4xx fail at once.
   */
  private async withRetries<T>(what: string, fn: (points: PointsTransport) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connection.pointsRequest(what, fn);
      } catch (error) {
        if (await this.recover?.(error)) continue;
        if (!isRetryableStatus(statusOf(error)) || attempt >= this.attempts) throw storeError(what, error);
        const after = retryAfterMs(error);
        const delay = after !== undefined ? Math.min(after, MAX_RETRY_AFTER_MS) : backoffDelay(QDRANT_BACKOFF, attempt);
        this.logger?.warn({ attempt, delay, err: describe(error) }, `qdrant ${what} failed, retrying`);
        await sleep(delay);
      }
    }
  }
}

/** The filter of one catalog's points (`catalog_id` is the tenant key). */
function ofCatalog(catalogId: string): PointsFilter {
  return { must: [{ key: 'catalog_id', value: catalogId }] };
}
