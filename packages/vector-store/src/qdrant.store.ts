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

/** A sparse vector: unique uint32 `indices` and their `values`. */
export interface SparseVector {
  indices: number[];
  values: number[];
}

export interface VectorPoint {
  id: string;
  /** The embedding (the named dense vector). */
  vector: number[];
  /** The chunk's term weights (the named sparse vector). */
  sparse: SparseVector;
  payload: PointPayload;
}

export interface SearchHit {
  id: string;
  score: number;
  /** The payload fields asked for with `SearchOptions.payload`. */
  payload?: Record<string, unknown>;
}

/** What a hybrid query looks for: the question's embedding and its terms. */
export interface HybridQuery {
  dense: number[];
  sparse: SparseVector;
}

export interface SearchOptions {
  catalogId: string;
  /** Search this collection rather than the one the configured name serves (a query pins what it resolved). */
  collection?: string;
  limit: number;
  kinds?: string[];
  schemas?: string[];
  tables?: string[];
  /** Weighted reciprocal rank fusion of the two prefetches. */
  fusion: FusionOptions;
  /** Payload fields to return with each hit (none when absent). */
  payload?: readonly string[];
}

/** Weighted RRF: a point's score is Σ weight / (k + rank) over the prefetches that found it. */
export interface FusionOptions {
  denseWeight: number;
  sparseWeight: number;
  k: number;
  /** Points each prefetch returns, at least `limit`. */
  prefetchLimit: number;
}

/** Names of the vectors every point carries. */
export const VECTOR_NAMES = { dense: 'dense', sparse: 'terms' } as const;

/** An embedding space: the model and size of the dense vectors a collection holds. */
export interface EmbeddingSpace {
  model: string;
  dimensions: number;
}

/** The collection the configured name serves and the space of its vectors. */
export interface ServedCollection extends EmbeddingSpace {
  collection: string;
}

/** What {@link QdrantStore.ensureCollection} found. */
export interface EnsuredCollection {
  served: ServedCollection;
  /**
   * The collection to build for this store's space when the served one holds another model or size (a
   * switch is due: see the pipeline's SpaceSwitchService), or `null` when the served one fits.
   */
  switchTo: string | null;
}

export interface QdrantStoreOptions {
  url: string;
  apiKey?: string;
  collection: string;
  dimensions: number;
  /**
   * The embedding model of the vectors this store writes, recorded in the metadata of each collection it
   * creates so that a change of model is seen like a change of size. Without it, collections are taken to
   * hold whatever model is configured.
   */
  model?: string;
  timeoutMs?: number;
  /** Points per upsert request (Qdrant advises 64-256). */
  upsertBatchSize?: number;
  /** Upsert requests in flight at once (Qdrant advises 2-4). */
  upsertParallelism?: number;
  /** Attempts of each write before giving up. */
  writeAttempts?: number;
  /**
   * `collection` names a collection itself rather than the alias that serves one (a collection being filled
   * for a switch or a migration): found missing, it is created again as it is, with no alias.
   */
  direct?: boolean;
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
  readonly model: string | undefined;
  private readonly client: QdrantClient;
  private readonly batchSize: number;
  private readonly parallelism: number;
  private readonly attempts: number;
  private readonly logger: Logger | undefined;
  private readonly options: QdrantStoreOptions;
  private readonly collectionParams: CollectionParams;
  private recreating: Promise<unknown> | undefined;

  constructor(options: QdrantStoreOptions) {
    this.options = options;
    this.collectionParams = options.collectionParams ?? {};
    this.collection = options.collection;
    this.dimensions = options.dimensions;
    this.model = options.model;
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
   * Makes the configured name serve: on a new install it creates the collection of this layout
   * ({@link QdrantStore.collectionFor}: named dense vectors of the configured size and sparse `idf` vectors,
   * the model in its metadata) and points the configured name at it as an alias, in one request; every
   * read and write then goes through the alias. An existing alias, or a collection created under the
   * configured name itself, is used as it is; the layout before hybrid search is refused with what to do
   * (see the pipeline's CollectionMigrationService). When the served collection holds another model or size
   * than this store's, it keeps serving and the answer names the collection to build for the new space.
   * Creates the payload indexes (tenant `catalog_id`, `kind`, `schema`, `table`) when missing. Safe to run
   * from several processes.
   */
  async ensureCollection(): Promise<EnsuredCollection> {
    const target = (await this.resolve()) ?? (await this.createServing());
    const info = await this.call('read collection', () => this.client.getCollection(target), false);
    const problem = layoutProblem(info.config.params);
    if (problem) {
      const legacy = problem.startsWith('holds one unnamed vector');
      throw new VectorStoreError(
        `collection "${target}" (served as "${this.collection}") ${problem}: ` +
          (legacy
            ? 'run the migration to the hybrid layout (it copies the dense vectors; no embedding tokens), or'
            : 'it was not made by this service:') +
          ' set QDRANT_COLLECTION_NAME to a new name and reindex',
      );
    }
    await this.ensurePayloadIndexes(target);
    const served = { collection: target, ...spaceOf(info.config, this.model ?? '') };
    const fits = served.dimensions === this.dimensions && (this.model === undefined || served.model === this.model);
    return { served, switchTo: fits ? null : QdrantStore.collectionFor(this.collection, this.dimensions, this.model) };
  }

  /** The collection the configured name serves and the space of its vectors; `null` when there is none. */
  async served(): Promise<ServedCollection | null> {
    const name = await this.resolve();
    if (name === null) return null;
    const info = await this.call('read collection', () => this.client.getCollection(name), false);
    return { collection: name, ...spaceOf(info.config, this.model ?? '') };
  }

  /** The payload indexes every collection of this service has (tenant `catalog_id`, `kind`, `schema`, `table`). */
  async ensurePayloadIndexes(name: string): Promise<void> {
    await this.call('index catalog_id', () =>
      this.client.createPayloadIndex(name, {
        field_name: 'catalog_id',
        field_schema: { type: 'keyword', is_tenant: true },
        wait: true,
      }),
      false,
    );
    for (const field of KEYWORD_INDEXES) {
      await this.call(`index ${field}`, () =>
        this.client.createPayloadIndex(name, { field_name: field, field_schema: 'keyword', wait: true }),
        false,
      );
    }
  }

  /** Every collection name in Qdrant. */
  async listCollections(): Promise<string[]> {
    const { collections } = await this.call('list collections', () => this.client.getCollections(), false);
    return collections.map((c) => c.name);
  }

  /** When a collection was created by this service (its metadata), or `null` when it does not say. */
  async createdAt(name: string): Promise<Date | null> {
    const info = await this.call('read collection', () => this.client.getCollection(name), false);
    const created = (info.config as { metadata?: { created_at?: unknown } | null }).metadata?.created_at;
    const at = typeof created === 'string' ? new Date(created) : null;
    return at && !Number.isNaN(at.getTime()) ? at : null;
  }

  /** Whether a collection holds the layout before hybrid search: one unnamed vector per point. */
  async isLegacyLayout(name: string): Promise<boolean> {
    const info = await this.call('read collection', () => this.client.getCollection(name));
    const vectors = info.config.params.vectors as Record<string, unknown> | undefined;
    return vectors !== undefined && typeof vectors.size === 'number';
  }

  /**
   * Name of the collection that holds this layout behind the alias `alias`: `<alias>-hybrid-<size>` for the
   * first one, `<alias>-hybrid-<size>-<model>` for the one a switch of model or size builds.
   */
  static collectionFor(alias: string, dimensions: number, model?: string): string {
    const base = `${alias}-hybrid-${dimensions}`;
    if (model === undefined) return base;
    const slug = model.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
    return `${base}-${slug || 'model'}`;
  }

  /** The collection the configured name serves: an alias's target, or a collection of that name; `null` if neither. */
  async resolve(): Promise<string | null> {
    const { aliases } = await this.call('list aliases', () => this.client.getAliases(), false);
    const alias = aliases.find((a) => a.alias_name === this.collection);
    if (alias) return alias.collection_name;
    const { exists } = await this.call('check collection', () => this.client.collectionExists(this.collection), false);
    return exists ? this.collection : null;
  }

  /**
   * Points the configured name at `target` in one request (`delete_alias` and `create_alias` applied
   * together), so that a query never finds the name missing.
   */
  async switchAlias(target: string): Promise<void> {
    const { aliases } = await this.call('list aliases', () => this.client.getAliases());
    const actions: Parameters<QdrantClient['updateCollectionAliases']>[0]['actions'] = [];
    if (aliases.some((a) => a.alias_name === this.collection)) actions.push({ delete_alias: { alias_name: this.collection } });
    actions.push({ create_alias: { collection_name: target, alias_name: this.collection } });
    await this.call('switch alias', () => this.client.updateCollectionAliases({ actions }));
  }

  /** Creates the collection of this layout (if needed) and the alias to it; returns the collection's name. */
  private async createServing(): Promise<string> {
    const target = QdrantStore.collectionFor(this.collection, this.dimensions);
    await this.createLayout(target);
    try {
      await this.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: target, alias_name: this.collection } }],
      });
    } catch (error) {
      // Another process created the alias first: use whatever it serves.
      if (!(isApiError(error) && error.status === 409)) throw this.wrap('create alias', error);
      return (await this.resolve()) ?? target;
    }
    return target;
  }

  /** Creates a collection of named dense (cosine) and sparse (`idf`) vectors; one that exists is fine. */
  async createLayout(name: string): Promise<void> {
    try {
      const { shardNumber, replicationFactor, writeConsistencyFactor } = this.collectionParams;
      await this.client.createCollection(name, {
        vectors: { [VECTOR_NAMES.dense]: { size: this.dimensions, distance: 'Cosine' } },
        sparse_vectors: { [VECTOR_NAMES.sparse]: { modifier: 'idf' } },
        metadata: {
          ...(this.model !== undefined ? { embedding_model: this.model } : {}),
          embedding_dimensions: this.dimensions,
          // Tells generations apart: a switch drops only collections created before the one it serves.
          created_at: new Date().toISOString(),
        },
        ...(shardNumber !== undefined ? { shard_number: shardNumber } : {}),
        ...(replicationFactor !== undefined ? { replication_factor: replicationFactor } : {}),
        ...(writeConsistencyFactor !== undefined ? { write_consistency_factor: writeConsistencyFactor } : {}),
      });
    } catch (error) {
      // Another process created it first: fine.
      if (!(isApiError(error) && error.status === 409)) throw this.wrap('create collection', error);
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
          const points = batch.map((p) => ({
            id: p.id,
            vector: { [VECTOR_NAMES.dense]: p.vector, [VECTOR_NAMES.sparse]: p.sparse },
            payload: p.payload,
          }));
          await this.withRetries('upsert points', () => this.client.upsert(this.collection, { wait: true, points }));
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
    const response = await this.call('query points', () =>
      this.client.query(options.collection ?? this.collection, {
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

  /** The same store on another collection (or alias): for copying between collections. */
  withCollection(collection: string): QdrantStore {
    return new QdrantStore({ ...this.options, collection, direct: true });
  }

  /**
   * Every point of this collection with its payload and its vector as stored (one unnamed vector, or named
   * vectors), a page at a time, in scroll order.
   */
  async *scrollPoints(pageSize = 256): AsyncGenerator<{ id: string; vector: unknown; payload: Record<string, unknown> }[]> {
    let offset: string | number | undefined | null = undefined;
    do {
      const page = await this.call('scroll points', () =>
        this.client.scroll(this.collection, {
          limit: pageSize,
          with_payload: true,
          with_vector: true,
          ...(offset !== undefined && offset !== null ? { offset } : {}),
        }),
      );
      yield page.points.map((p) => ({ id: String(p.id), vector: p.vector, payload: (p.payload ?? {}) }));
      offset = page.next_page_offset as string | number | null | undefined;
    } while (offset !== undefined && offset !== null);
  }

  /** Deletes a collection (not an alias); a missing one is no error. */
  async dropCollection(name: string): Promise<void> {
    await this.call('delete collection', () => this.client.deleteCollection(name));
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
    return (await this.resolve()) !== null;
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
    const recreate = this.options.direct
      ? () => this.createLayout(this.collection).then(() => this.ensurePayloadIndexes(this.collection))
      : () => this.ensureCollection();
    this.recreating ??= recreate().finally(() => {
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

/** What is wrong with an existing collection's layout for this service, or `null` when it fits. */
function layoutProblem(params: { vectors?: unknown; sparse_vectors?: unknown }): string | null {
  const vectors = params.vectors as Record<string, unknown> | undefined;
  if (!vectors || typeof vectors.size === 'number') {
    return 'holds one unnamed vector per point (the layout before hybrid search), not named dense and sparse vectors';
  }
  const dense = vectors[VECTOR_NAMES.dense] as { size?: unknown } | undefined;
  if (!dense) return `has no dense vector named "${VECTOR_NAMES.dense}"`;
  const sparse = (params.sparse_vectors as Record<string, unknown> | undefined)?.[VECTOR_NAMES.sparse];
  if (!sparse) return `has no sparse vector named "${VECTOR_NAMES.sparse}"`;
  return null;
}

/**
 * The space of a collection's vectors: the dense size from its parameters, the model from its metadata (a
 * collection made before the model was recorded is taken to hold `fallbackModel`, the configured one).
 */
function spaceOf(config: { params: { vectors?: unknown }; metadata?: unknown }, fallbackModel: string): EmbeddingSpace {
  const vectors = config.params.vectors as Record<string, unknown> | undefined;
  const dense = vectors?.[VECTOR_NAMES.dense] as { size?: unknown } | undefined;
  const size = typeof dense?.size === 'number' ? dense.size : typeof vectors?.size === 'number' ? vectors.size : 0;
  const metadata = config.metadata as { embedding_model?: unknown } | null | undefined;
  const model = typeof metadata?.embedding_model === 'string' ? metadata.embedding_model : fallbackModel;
  return { model, dimensions: size };
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
