import { type QdrantClient } from '@qdrant/js-client-rest';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantConnection } from './qdrant.connection';
import { isConflict, isMissingCollection, storeError } from './qdrant.errors';
import {
  VECTOR_NAMES,
  type CollectionParams,
  type EmbeddingSpace,
  type EnsuredCollection,
  type ServedCollection,
} from './qdrant.types';
import { VectorStoreError } from './vector-store.error';

export interface QdrantCollectionsOptions {
  /** The configured name: the alias that serves a collection, or with `direct` a collection itself. */
  collection: string;
  dimensions: number;
  /**
   * The embedding model of the vectors written, recorded in the metadata of each collection created so that
   * a change of model is seen like a change of size. Without it, collections are taken to hold whatever
   * model is configured.
   */
  model?: string;
  /**
   * The provider of that model (`openai`, `local`), recorded with it: a collection whose recorded provider
   * differs, or that records none, holds another space.
   */
  provider?: string;
  /**
   * `collection` names a collection itself rather than the alias that serves one (a collection being filled
   * for a switch or a migration): found missing, it is created again as it is, with no alias.
   */
  direct?: boolean;
  /** Distributed-mode parameters of a collection created here; Qdrant's defaults when absent. */
  collectionParams?: CollectionParams;
  logger?: Logger;
}

/** Payload fields with a keyword index, created with the collection (before any bulk load). */
const KEYWORD_INDEXES = ['kind', 'schema', 'table'] as const;

/**
 * The collections of the service in Qdrant: the alias the configured name is, the layout of a collection
 * (named dense and sparse vectors, payload indexes), its embedding space (metadata), generations (created
 * by a switch, dropped after it), bootstrap and the recreation of a collection found missing.
 */
export class QdrantCollections {
  readonly collection: string;
  readonly dimensions: number;
  readonly model: string | undefined;
  readonly provider: string | undefined;
  private readonly direct: boolean;
  private readonly collectionParams: CollectionParams;
  private readonly logger: Logger | undefined;
  private recreating: Promise<unknown> | undefined;

  constructor(
    private readonly connection: QdrantConnection,
    options: QdrantCollectionsOptions,
  ) {
    this.collection = options.collection;
    this.dimensions = options.dimensions;
    this.model = options.model;
    this.provider = options.provider;
    this.direct = options.direct ?? false;
    this.collectionParams = options.collectionParams ?? {};
    this.logger = options.logger;
  }

  /**
   * Name of the collection that holds this layout behind the alias `alias` for an embedder's space:
   * `<alias>-hybrid-<size>-<provider>-<model>` (`embeddings-hybrid-256-local-hashing-v1`), or
   * `<alias>-hybrid-<size>` when the embedder is not known.
   */
  static collectionFor(alias: string, dimensions: number, model?: string, provider?: string): string {
    const base = `${alias}-hybrid-${dimensions}`;
    if (model === undefined) return base;
    const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
    const named = [provider, model].filter((part): part is string => part !== undefined).map(slug).join('-');
    return `${base}-${named || 'model'}`;
  }

  /**
   * Whether vectors of `space` are this one's: the same size, and (when the model is known) the same model
   * and provider.
   */
  holds(space: EmbeddingSpace): boolean {
    if (space.dimensions !== this.dimensions) return false;
    if (this.model === undefined) return true;
    return space.model === this.model && (this.provider === undefined || space.provider === this.provider);
  }

  /** The name of the collection for this one's own space ({@link QdrantCollections.collectionFor}). */
  ownCollection(): string {
    return QdrantCollections.collectionFor(this.collection, this.dimensions, this.model, this.provider);
  }

  /**
   * Makes the configured name serve: on a new install it creates the collection of this layout
   * ({@link QdrantCollections.collectionFor}: named dense vectors of the configured size and sparse `idf`
   * vectors, the model in its metadata) and points the configured name at it as an alias, in one request;
   * every read and write then goes through the alias. An existing alias, or a collection created under the
   * configured name itself, is used as it is; the layout before hybrid search is refused with what to do
   * (see the pipeline's CollectionMigrationService). When the served collection holds another model or size
   * than this one's, it keeps serving and the answer names the collection to build for the new space.
   * Creates the payload indexes (tenant `catalog_id`, `kind`, `schema`, `table`) when missing. Safe to run
   * from several processes.
   */
  async ensureCollection(): Promise<EnsuredCollection> {
    const target = (await this.resolve()) ?? (await this.createServing());
    const info = await this.call('read collection', (c) => c.getCollection(target), false);
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
    return { served, switchTo: this.holds(served) ? null : this.ownCollection() };
  }

  /** The collection the configured name serves and the space of its vectors; `null` when there is none. */
  async served(): Promise<ServedCollection | null> {
    const name = await this.resolve();
    if (name === null) return null;
    const info = await this.call('read collection', (c) => c.getCollection(name), false);
    return { collection: name, ...spaceOf(info.config, this.model ?? '') };
  }

  /**
   * Points in the served collection over all catalogs, or `null` when the collection is missing. Never
   * recreates it: whoever asks only wants to know what is there.
   */
  async countAll(): Promise<number | null> {
    const target = await this.resolve();
    if (target === null) return null;
    try {
      // A request on points: over the connection's points transport, like every other.
      return await this.connection.pointsRequest('count points', (points) => points.count(target));
    } catch (error) {
      throw storeError('count points', error);
    }
  }

  /** The collection the configured name serves: an alias's target, or a collection of that name; `null` if neither. */
  async resolve(): Promise<string | null> {
    const { aliases } = await this.call('list aliases', (c) => c.getAliases(), false);
    const alias = aliases.find((a) => a.alias_name === this.collection);
    if (alias) return alias.collection_name;
    const { exists } = await this.call('check collection', (c) => c.collectionExists(this.collection), false);
    return exists ? this.collection : null;
  }

  /** Whether the configured name serves a collection (readiness: a missing collection is reported, not hidden). */
  async collectionExists(): Promise<boolean> {
    return (await this.resolve()) !== null;
  }

  /** True when Qdrant answers, on REST and on the points transport (its gRPC port, when that is the transport). */
  async ping(): Promise<boolean> {
    try {
      await this.connection.request('check collection', (c) => c.collectionExists(this.collection));
      await this.connection.pointsRequest('health check', (points) => points.ping());
      return true;
    } catch {
      return false;
    }
  }

  /** Every collection name in Qdrant. */
  async listCollections(): Promise<string[]> {
    const { collections } = await this.call('list collections', (c) => c.getCollections(), false);
    return collections.map((c) => c.name);
  }

  /** When a collection was created by this service (its metadata), or `null` when it does not say. */
  async createdAt(name: string): Promise<Date | null> {
    const info = await this.call('read collection', (c) => c.getCollection(name), false);
    const created = (info.config as { metadata?: { created_at?: unknown } | null }).metadata?.created_at;
    const at = typeof created === 'string' ? new Date(created) : null;
    return at && !Number.isNaN(at.getTime()) ? at : null;
  }

  /** Whether a collection holds the layout before hybrid search: one unnamed vector per point. */
  async isLegacyLayout(name: string): Promise<boolean> {
    const info = await this.call('read collection', (c) => c.getCollection(name));
    const vectors = info.config.params.vectors as Record<string, unknown> | undefined;
    return vectors !== undefined && typeof vectors.size === 'number';
  }

  /** The payload indexes every collection of this service has (tenant `catalog_id`, `kind`, `schema`, `table`). */
  async ensurePayloadIndexes(name: string): Promise<void> {
    await this.call(
      'index catalog_id',
      (c) => c.createPayloadIndex(name, { field_name: 'catalog_id', field_schema: { type: 'keyword', is_tenant: true }, wait: true }),
      false,
    );
    for (const field of KEYWORD_INDEXES) {
      await this.call(`index ${field}`, (c) => c.createPayloadIndex(name, { field_name: field, field_schema: 'keyword', wait: true }), false);
    }
  }

  /**
   * Points the configured name at `target` in one request (`delete_alias` and `create_alias` applied
   * together), so that a query never finds the name missing.
   */
  async switchAlias(target: string): Promise<void> {
    const { aliases } = await this.call('list aliases', (c) => c.getAliases());
    const actions: Parameters<QdrantClient['updateCollectionAliases']>[0]['actions'] = [];
    if (aliases.some((a) => a.alias_name === this.collection)) actions.push({ delete_alias: { alias_name: this.collection } });
    actions.push({ create_alias: { collection_name: target, alias_name: this.collection } });
    await this.call('switch alias', (c) => c.updateCollectionAliases({ actions }));
  }

  /**
   * Creates a collection of named dense (cosine) and sparse (`idf`) vectors; one that exists is fine. Its
   * metadata records `recorded` (by default this one's provider and model); a provider left out records
   * vectors of no known provider (copies of a collection that did not record one).
   */
  async createLayout(name: string, recorded: { provider?: string; model?: string } = this): Promise<void> {
    const { shardNumber, replicationFactor, writeConsistencyFactor } = this.collectionParams;
    try {
      await this.connection.request('create collection', (c) =>
        c.createCollection(name, {
          vectors: { [VECTOR_NAMES.dense]: { size: this.dimensions, distance: 'Cosine' } },
          sparse_vectors: { [VECTOR_NAMES.sparse]: { modifier: 'idf' } },
          metadata: {
            ...(recorded.provider !== undefined ? { embedding_provider: recorded.provider } : {}),
            ...(recorded.model !== undefined ? { embedding_model: recorded.model } : {}),
            embedding_dimensions: this.dimensions,
            // Tells generations apart: a switch drops only collections created before the one it serves.
            created_at: new Date().toISOString(),
          },
          ...(shardNumber !== undefined ? { shard_number: shardNumber } : {}),
          ...(replicationFactor !== undefined ? { replication_factor: replicationFactor } : {}),
          ...(writeConsistencyFactor !== undefined ? { write_consistency_factor: writeConsistencyFactor } : {}),
        }),
      );
    } catch (error) {
      // Another process created it first: fine.
      if (!isConflict(error)) throw storeError('create collection', error);
    }
  }

  /** Deletes a collection (not an alias); a missing one is no error. */
  async dropCollection(name: string): Promise<void> {
    await this.call('delete collection', (c) => c.deleteCollection(name));
  }

  /**
   * A lost collection (Qdrant restarted empty, the collection dropped by hand) is recreated, with its payload
   * indexes, by whoever finds it missing: true when `error` says the collection is missing and it was
   * created again, so the caller can try again. The rows whose points were lost are found by the next
   * reindex or reconcile and embedded again. Concurrent finders share one recreation.
   */
  async recreateIfMissing(error: unknown): Promise<boolean> {
    if (!isMissingCollection(error)) return false;
    this.logger?.warn({ collection: this.collection }, 'qdrant collection is missing: creating it again');
    const recreate = this.direct
      ? () => this.createLayout(this.collection).then(() => this.ensurePayloadIndexes(this.collection))
      : () => this.ensureCollection();
    this.recreating ??= recreate().finally(() => {
      this.recreating = undefined;
    });
    await this.recreating;
    return true;
  }

  /** Creates the collection of this layout (if needed) and the alias to it; returns the collection's name. */
  private async createServing(): Promise<string> {
    const target = this.ownCollection();
    await this.createLayout(target);
    try {
      await this.connection.request('create alias', (c) =>
        c.updateCollectionAliases({ actions: [{ create_alias: { collection_name: target, alias_name: this.collection } }] }),
      );
    } catch (error) {
      // Another process created the alias first: use whatever it serves.
      if (!isConflict(error)) throw storeError('create alias', error);
      return (await this.resolve()) ?? target;
    }
    return target;
  }

  /** One request; with `recover`, a collection found missing is created again and the request sent once more. */
  private async call<T>(what: string, fn: (client: QdrantClient) => Promise<T>, recover = true): Promise<T> {
    try {
      return await this.connection.request(what, fn);
    } catch (error) {
      if (recover && (await this.recreateIfMissing(error))) return this.call(what, fn, false);
      throw storeError(what, error);
    }
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
 * The space of a collection's vectors: the dense size from its parameters, the provider and model from its
 * metadata (a collection made before the model was recorded is taken to hold `fallbackModel`, the configured
 * one, of no known provider).
 */
function spaceOf(config: { params: { vectors?: unknown }; metadata?: unknown }, fallbackModel: string): EmbeddingSpace {
  const vectors = config.params.vectors as Record<string, unknown> | undefined;
  const dense = vectors?.[VECTOR_NAMES.dense] as { size?: unknown } | undefined;
  const size = typeof dense?.size === 'number' ? dense.size : typeof vectors?.size === 'number' ? vectors.size : 0;
  const metadata = config.metadata as { embedding_model?: unknown; embedding_provider?: unknown } | null | undefined;
  const model = typeof metadata?.embedding_model === 'string' ? metadata.embedding_model : fallbackModel;
  const provider = typeof metadata?.embedding_provider === 'string' ? metadata.embedding_provider : null;
  return { provider, model, dimensions: size };
}
