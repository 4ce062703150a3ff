import { QdrantClient, QdrantClientResourceExhaustedError } from '@qdrant/js-client-rest';
import { type Logger } from '@catalog-indexer/logger';
import { VectorStoreError } from './vector-store.error';

/** The payload every point carries. `catalog_id` is the tenant key, filtered on every query. */
export interface PointPayload {
  catalog_id: string;
  kind: string;
  schema?: string | null;
  table?: string | null;
  column?: string | null;
  chunk_key: string;
  content_hash: string;
  [key: string]: unknown;
}

export interface VectorPoint {
  id: string;
  vector: number[];
  payload: PointPayload;
}

export interface SearchHit {
  id: string;
  score: number;
}

export interface SearchOptions {
  catalogId: string;
  limit: number;
  kinds?: string[];
  schemas?: string[];
  tables?: string[];
  scoreThreshold?: number;
}

export interface QdrantStoreOptions {
  url: string;
  apiKey?: string;
  collection: string;
  dimensions: number;
  timeoutMs?: number;
  /** Points per upsert request (Qdrant advises 64-256). */
  upsertBatchSize?: number;
  /** Upsert requests in flight at once (Qdrant advises 2-4). */
  upsertParallelism?: number;
  /** Attempts of each write before giving up. */
  writeAttempts?: number;
  /** Distributed-mode parameters of a collection this store creates; Qdrant's defaults when absent. */
  collectionParams?: CollectionParams;
  logger?: Logger;
}

/** `shard_number`, `replication_factor` and `write_consistency_factor` of a new collection. */
export interface CollectionParams {
  shardNumber?: number;
  replicationFactor?: number;
  writeConsistencyFactor?: number;
}

/** Payload fields with a keyword index, created with the collection (before any bulk load). */
const KEYWORD_INDEXES = ['kind', 'schema', 'table'] as const;

/** Longest `Retry-After` a write waits before its next attempt; a longer one is cut to this. */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * The embeddings collection in Qdrant: bootstrap, writes with `wait=true` and retries, filtered search,
 * and the scroll/count the pipeline needs to check that both stores agree.
 */
export class QdrantStore {
  readonly collection: string;
  readonly dimensions: number;
  private readonly client: QdrantClient;
  private readonly batchSize: number;
  private readonly parallelism: number;
  private readonly attempts: number;
  private readonly logger: Logger | undefined;
  private recreating: Promise<void> | undefined;
  private readonly collectionParams: CollectionParams;

  constructor(options: QdrantStoreOptions) {
    this.collectionParams = options.collectionParams ?? {};
    this.collection = options.collection;
    this.dimensions = options.dimensions;
    this.batchSize = options.upsertBatchSize ?? 128;
    this.parallelism = options.upsertParallelism ?? 3;
    this.attempts = options.writeAttempts ?? 4;
    this.logger = options.logger;
    // A URL without a port means Qdrant's 6333, as the client assumes.
    this.client = new QdrantClient({
      url: options.url,
      apiKey: options.apiKey,
      timeout: options.timeoutMs ?? 30_000,
      checkCompatibility: false,
    });
  }

  /**
   * Creates the collection (cosine, the configured size) and its payload indexes when missing. An existing
   * collection of another size is an error: a new model or size needs a new collection.
   */
  async ensureCollection(): Promise<void> {
    const { exists } = await this.call('check collection', () => this.client.collectionExists(this.collection), false);
    if (exists) {
      const info = await this.call('read collection', () => this.client.getCollection(this.collection), false);
      const vectors = info.config.params.vectors;
      const size = vectors && 'size' in vectors && typeof vectors.size === 'number' ? vectors.size : undefined;
      if (size !== undefined && size !== this.dimensions) {
        throw new VectorStoreError(
          `collection "${this.collection}" holds ${size}-dimensional vectors but the embedder makes ${this.dimensions}: ` +
            'set QDRANT_COLLECTION_NAME to a new collection for this model and reindex',
        );
      }
    } else {
      try {
        const { shardNumber, replicationFactor, writeConsistencyFactor } = this.collectionParams;
        await this.client.createCollection(this.collection, {
          vectors: { size: this.dimensions, distance: 'Cosine' },
          ...(shardNumber !== undefined ? { shard_number: shardNumber } : {}),
          ...(replicationFactor !== undefined ? { replication_factor: replicationFactor } : {}),
          ...(writeConsistencyFactor !== undefined ? { write_consistency_factor: writeConsistencyFactor } : {}),
        });
      } catch (error) {
        // Another process created it first: fine.
        if (!(isApiError(error) && error.status === 409)) throw this.wrap('create collection', error);
      }
    }
    await this.call('index catalog_id', () =>
      this.client.createPayloadIndex(this.collection, {
        field_name: 'catalog_id',
        field_schema: { type: 'keyword', is_tenant: true },
        wait: true,
      }),
      false,
    );
    for (const field of KEYWORD_INDEXES) {
      await this.call(`index ${field}`, () =>
        this.client.createPayloadIndex(this.collection, { field_name: field, field_schema: 'keyword', wait: true }),
        false,
      );
    }
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
          await this.withRetries('upsert points', () => this.client.upsert(this.collection, { wait: true, points: batch }));
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
      await this.withRetries('delete points', () => this.client.delete(this.collection, { wait: true, points: batch }));
    }
  }

  /** Deletes every point of a catalog. */
  async deleteCatalog(catalogId: string): Promise<void> {
    await this.withRetries('delete catalog points', () =>
      this.client.delete(this.collection, { wait: true, filter: { must: [{ key: 'catalog_id', match: { value: catalogId } }] } }),
    );
  }

  /** Nearest points of one catalog, best first, through `POST /points/query`. */
  async search(vector: number[], options: SearchOptions): Promise<SearchHit[]> {
    const must: Record<string, unknown>[] = [{ key: 'catalog_id', match: { value: options.catalogId } }];
    if (options.kinds?.length) must.push({ key: 'kind', match: { any: options.kinds } });
    if (options.schemas?.length) must.push({ key: 'schema', match: { any: options.schemas } });
    if (options.tables?.length) must.push({ key: 'table', match: { any: options.tables } });
    const response = await this.call('query points', () =>
      this.client.query(this.collection, {
        query: vector,
        filter: { must },
        limit: options.limit,
        with_payload: false,
        ...(options.scoreThreshold !== undefined ? { score_threshold: options.scoreThreshold } : {}),
      }),
    );
    return response.points.map((p) => ({ id: String(p.id), score: p.score }));
  }

  /** Every point id of a catalog, by scrolling. */
  async listIds(catalogId: string): Promise<string[]> {
    const ids: string[] = [];
    let offset: string | number | undefined | null = undefined;
    do {
      const page = await this.call('scroll points', () =>
        this.client.scroll(this.collection, {
          filter: { must: [{ key: 'catalog_id', match: { value: catalogId } }] },
          limit: 1000,
          with_payload: false,
          with_vector: false,
          ...(offset !== undefined && offset !== null ? { offset } : {}),
        }),
      );
      for (const p of page.points) ids.push(String(p.id));
      offset = page.next_page_offset as string | number | null | undefined;
    } while (offset !== undefined && offset !== null);
    return ids;
  }

  /** The distinct `catalog_id`s of every point in the collection (the reconciler's view of Qdrant's tenants). */
  async catalogIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    let offset: string | number | undefined | null = undefined;
    do {
      const page = await this.call('scroll catalog ids', () =>
        this.client.scroll(this.collection, {
          limit: 1000,
          with_payload: ['catalog_id'],
          with_vector: false,
          ...(offset !== undefined && offset !== null ? { offset } : {}),
        }),
      );
      for (const p of page.points) {
        const id = (p.payload as { catalog_id?: unknown } | null | undefined)?.catalog_id;
        if (typeof id === 'string') ids.add(id);
      }
      offset = page.next_page_offset as string | number | null | undefined;
    } while (offset !== undefined && offset !== null);
    return ids;
  }

  /** Whether the collection exists (readiness: a missing collection is reported, not hidden). */
  async collectionExists(): Promise<boolean> {
    const { exists } = await this.call('check collection', () => this.client.collectionExists(this.collection), false);
    return exists;
  }

  async count(catalogId: string): Promise<number> {
    const result = await this.call('count points', () =>
      this.client.count(this.collection, {
        filter: { must: [{ key: 'catalog_id', match: { value: catalogId } }] },
        exact: true,
      }),
    );
    return result.count;
  }

  /** True when Qdrant answers. */
  async ping(): Promise<boolean> {
    try {
      await this.client.collectionExists(this.collection);
      return true;
    } catch {
      return false;
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>, recover = true): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (recover && (await this.recreateIfMissing(error))) return this.call(what, fn, false);
      throw this.wrap(what, error);
    }
  }

  /**
   * A lost collection (Qdrant restarted empty, the collection dropped by hand) is recreated, with its payload
   * indexes, by whoever finds it missing; the caller then tries again. The rows whose points were lost are
   * found by the next reindex or reconcile and embedded again. Concurrent finders share one recreation.
   */
  private async recreateIfMissing(error: unknown): Promise<boolean> {
    if (!isMissingCollection(error)) return false;
    this.logger?.warn({ collection: this.collection }, 'qdrant collection is missing: creating it again');
    this.recreating ??= this.ensureCollection().finally(() => {
      this.recreating = undefined;
    });
    await this.recreating;
    return true;
  }

  /**
   * Retries writes on 429, 5xx and network errors with exponential backoff (or the 429's `Retry-After`);
   * other 4xx fail at once.
   */
  private async withRetries<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (await this.recreateIfMissing(error)) continue;
        const status = statusOf(error);
        const retryable = status === undefined || status === 429 || status >= 500;
        if (!retryable || attempt >= this.attempts) throw this.wrap(what, error);
        const backoff = Math.min(200 * 2 ** (attempt - 1), 5_000) * (0.75 + Math.random() / 2);
        const retryAfterMs = error instanceof QdrantClientResourceExhaustedError ? error.retry_after * 1000 : undefined;
        const delay = retryAfterMs !== undefined && retryAfterMs > 0 ? Math.min(retryAfterMs, MAX_RETRY_AFTER_MS) : backoff;
        this.logger?.warn({ attempt, delay: Math.round(delay), err: describe(error) }, `qdrant ${what} failed, retrying`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private wrap(what: string, error: unknown): VectorStoreError {
    return new VectorStoreError(`qdrant ${what} failed: ${describe(error)}`, statusOf(error), { cause: error });
  }
}

interface ApiErrorLike {
  status: number;
  data?: unknown;
}

/** Qdrant's 404 for a collection that does not exist (not for a missing point). */
function isMissingCollection(error: unknown): boolean {
  if (!isApiError(error) || error.status !== 404) return false;
  const data = error.data as { status?: { error?: string } } | undefined;
  return /collection .* (doesn't|does not) exist/i.test(data?.status?.error ?? error.message);
}

function isApiError(error: unknown): error is ApiErrorLike & Error {
  return error instanceof Error && typeof (error as Partial<ApiErrorLike>).status === 'number';
}

/**
 * The HTTP status of a failed call, when Qdrant answered. The client turns a 429 that carries `Retry-After`
 * into a {@link QdrantClientResourceExhaustedError} without a status.
 */
function statusOf(error: unknown): number | undefined {
  if (error instanceof QdrantClientResourceExhaustedError) return 429;
  return isApiError(error) ? error.status : undefined;
}

function describe(error: unknown): string {
  if (error instanceof QdrantClientResourceExhaustedError) return `429 ${error.message} (retry after ${error.retry_after} s)`;
  if (isApiError(error)) {
    const data = error.data as { status?: { error?: string } } | undefined;
    return `${error.status} ${data?.status?.error ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
