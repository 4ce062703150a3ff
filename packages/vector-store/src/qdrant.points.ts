import { type QdrantClient } from '@qdrant/js-client-rest';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger } from '@catalog-indexer/logger';
import { QDRANT_BACKOFF, backoffDelay, isRetryableStatus } from '@catalog-indexer/retry';
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

/** A point as scrolled: its id, and its payload and vector as far as they were asked for. */
interface ScrolledPoint {
  id: string;
  vector: unknown;
  payload: Record<string, unknown> | null | undefined;
}

type ScrollRequest = Omit<NonNullable<Parameters<QdrantClient['scroll']>[1]>, 'offset'>;

/**
 * The points of one collection: writes in parallel batches with `wait=true` and retries, deletes, the
 * filtered hybrid query, and the scroll and count the pipeline needs to check that both stores agree.
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
          const points = batch.map((p) => ({
            id: p.id,
            vector: { [VECTOR_NAMES.dense]: p.vector, [VECTOR_NAMES.sparse]: p.sparse },
            payload: p.payload,
          }));
          await this.withRetries('upsert points', (c) => c.upsert(this.collection, { wait: true, points }));
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
      await this.withRetries('delete points', (c) => c.delete(this.collection, { wait: true, points: batch }));
    }
  }

  /** Deletes every point of a catalog. */
  async deleteCatalog(catalogId: string): Promise<void> {
    await this.withRetries('delete catalog points', (c) => c.delete(this.collection, { wait: true, filter: ofCatalog(catalogId) }));
  }

  /**
   * The points of one catalog nearest to a question, best first, through `POST /points/query`: a dense and
   * a sparse prefetch, each filtered to the catalog (and the optional kinds, schemas, tables) and each
   * returning `prefetchLimit` points, fused by weighted reciprocal rank fusion.
   */
  async search(query: HybridQuery, options: SearchOptions): Promise<SearchHit[]> {
    const must: Record<string, unknown>[] = [{ key: 'catalog_id', match: { value: options.catalogId } }];
    if (options.kinds?.length) must.push({ key: 'kind', match: { any: options.kinds } });
    if (options.schemas?.length) must.push({ key: 'schema', match: { any: options.schemas } });
    if (options.tables?.length) must.push({ key: 'table', match: { any: options.tables } });
    const filter = { must };
    const { fusion } = options;
    const prefetchLimit = Math.max(fusion.prefetchLimit, options.limit);
    const response = await this.call(
      'query points',
      (c) =>
        c.query(options.collection ?? this.collection, {
          prefetch: [
            { query: query.dense, using: VECTOR_NAMES.dense, filter, limit: prefetchLimit },
            { query: query.sparse, using: VECTOR_NAMES.sparse, filter, limit: prefetchLimit },
          ],
          query: { rrf: { k: fusion.k, weights: [fusion.denseWeight, fusion.sparseWeight] } },
          limit: options.limit,
          with_payload: options.payload?.length ? [...options.payload] : false,
        }),
      // A pinned collection that is gone was retired by a switch: the caller resolves the alias again.
      options.collection === undefined,
    );
    return response.points.map((p) =>
      options.payload?.length ? { id: String(p.id), score: p.score, payload: p.payload ?? {} } : { id: String(p.id), score: p.score },
    );
  }

  /** The number of points of a catalog (exact). */
  /** The dense vectors of the points among `ids` that exist, by id (Qdrant keeps cosine vectors normalised). */
  async denseVectors(ids: readonly string[]): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    for (let i = 0; i < ids.length; i += 256) {
      const batch = ids.slice(i, i + 256);
      const points = await this.call('retrieve points', (c) => c.retrieve(this.collection, { ids: batch, with_payload: false, with_vector: [VECTOR_NAMES.dense] }));
      for (const p of points) {
        const vector = (p.vector as Record<string, unknown> | null | undefined)?.[VECTOR_NAMES.dense];
        if (Array.isArray(vector)) found.set(String(p.id), vector as number[]);
      }
    }
    return found;
  }

  /** The ids of the `limit` points of a catalog nearest to `vector` by the dense vector alone, best first. */
  async nearestDense(catalogId: string, vector: number[], limit: number): Promise<string[]> {
    const response = await this.call('query points', (c) =>
      c.query(this.collection, { query: vector, using: VECTOR_NAMES.dense, filter: ofCatalog(catalogId), limit, with_payload: false }),
    );
    return response.points.map((p) => String(p.id));
  }

  async count(catalogId: string): Promise<number> {
    const result = await this.call('count points', (c) => c.count(this.collection, { filter: ofCatalog(catalogId), exact: true }));
    return result.count;
  }

  /** Every point id of a catalog. */
  async listIds(catalogId: string): Promise<string[]> {
    const ids: string[] = [];
    const pages = this.scroll('scroll points', { filter: ofCatalog(catalogId), limit: 1000, with_payload: false, with_vector: false });
    for await (const page of pages) for (const p of page) ids.push(p.id);
    return ids;
  }

  /** The distinct `catalog_id`s of every point in the collection (the reconciler's view of Qdrant's tenants). */
  async catalogIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const page of this.scroll('scroll catalog ids', { limit: 1000, with_payload: ['catalog_id'], with_vector: false })) {
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
    for await (const page of this.scroll('scroll points', { limit: pageSize, with_payload: true, with_vector: true })) {
      yield page.map((p) => ({ id: p.id, vector: p.vector, payload: p.payload ?? {} }));
    }
  }

  /** The one scroll loop: the pages of `request`, following `next_page_offset` until there is none. */
  private async *scroll(what: string, request: ScrollRequest): AsyncGenerator<ScrolledPoint[]> {
    let offset: string | number | undefined | null = undefined;
    do {
      const from = offset;
      const page = await this.call(what, (c) => c.scroll(this.collection, { ...request, ...(from !== undefined && from !== null ? { offset: from } : {}) }));
      yield page.points.map((p) => ({ id: String(p.id), vector: p.vector, payload: p.payload }));
      offset = page.next_page_offset as string | number | null | undefined;
    } while (offset !== undefined && offset !== null);
  }

  /** One request; with `recover` (and a recovery hook), a request the hook made worth it is sent once more. */
  private async call<T>(what: string, fn: (client: QdrantClient) => Promise<T>, recover = true): Promise<T> {
    try {
      return await this.connection.request(what, fn);
    } catch (error) {
      if (recover && (await this.recover?.(error))) return this.call(what, fn, false);
      throw storeError(what, error);
    }
  }

  /**
   * Retries writes on 429, 5xx and network errors with exponential backoff ({@link QDRANT_BACKOFF}) or the
   * 429's `Retry-After`; other 4xx fail at once.
   */
  private async withRetries<T>(what: string, fn: (client: QdrantClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connection.request(what, fn);
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
function ofCatalog(catalogId: string): { must: { key: string; match: { value: string } }[] } {
  return { must: [{ key: 'catalog_id', match: { value: catalogId } }] };
}
