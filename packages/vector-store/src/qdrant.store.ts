import { QdrantCollections, type QdrantCollectionsOptions } from './qdrant.collections';
import { QdrantConnection, type QdrantConnectionOptions } from './qdrant.connection';
import { QdrantPoints, type QdrantPointsOptions } from './qdrant.points';
import {
  type EnsuredCollection,
  type HybridQuery,
  type SearchHit,
  type SearchOptions,
  type ServedCollection,
  type VectorPoint,
} from './qdrant.types';
import { type VectorReader } from './vector-reader';

/**
 * A writer's store: where Qdrant is and who is told of each request ({@link QdrantConnectionOptions}), the
 * configured name and space ({@link QdrantCollectionsOptions}), and how points are written
 * ({@link QdrantPointsOptions}: batch size, lanes, attempts).
 */
export type QdrantStoreOptions = QdrantConnectionOptions & QdrantCollectionsOptions & Omit<QdrantPointsOptions, 'recover'>;

/**
 * What a writer (the worker, the pipeline) holds: the {@link QdrantCollections} of the configured name and
 * the {@link QdrantPoints} behind it, on one connection. A point request that finds the collection missing
 * has it created again (with its alias, or as it is when `direct`) and is sent once more. The methods below
 * hand each call to the one of the two that owns it.
 */
export class QdrantStore implements VectorReader {
  /** The collection name of a layout behind an alias (see {@link QdrantCollections.collectionFor}). */
  static collectionFor(alias: string, dimensions: number, model?: string, provider?: string): string {
    return QdrantCollections.collectionFor(alias, dimensions, model, provider);
  }

  readonly collection: string;
  readonly dimensions: number;
  readonly model: string | undefined;
  readonly provider: string | undefined;
  readonly collections: QdrantCollections;
  readonly points: QdrantPoints;
  private readonly options: QdrantStoreOptions;

  constructor(options: QdrantStoreOptions) {
    this.options = options;
    this.collection = options.collection;
    this.dimensions = options.dimensions;
    this.model = options.model;
    this.provider = options.provider;
    const connection = new QdrantConnection(options);
    this.collections = new QdrantCollections(connection, options);
    this.points = new QdrantPoints(connection, { ...options, recover: (error) => this.collections.recreateIfMissing(error) });
  }

  /** The same store on another collection (not an alias): for filling or copying into a collection. */
  withCollection(collection: string): QdrantStore {
    return new QdrantStore({ ...this.options, collection, direct: true });
  }

  ensureCollection(): Promise<EnsuredCollection> {
    return this.collections.ensureCollection();
  }

  served(): Promise<ServedCollection | null> {
    return this.collections.served();
  }

  /** See {@link QdrantPoints.denseVectors}. */
  denseVectors(ids: readonly string[]): Promise<Map<string, number[]>> {
    return this.points.denseVectors(ids);
  }

  /** See {@link QdrantPoints.nearestDense}. */
  nearestDense(catalogId: string, vector: Float32Array | number[], limit: number): Promise<string[]> {
    return this.points.nearestDense(catalogId, vector, limit);
  }

  resolve(): Promise<string | null> {
    return this.collections.resolve();
  }

  collectionExists(): Promise<boolean> {
    return this.collections.collectionExists();
  }

  countAll(): Promise<number | null> {
    return this.collections.countAll();
  }

  ping(): Promise<boolean> {
    return this.collections.ping();
  }

  listCollections(): Promise<string[]> {
    return this.collections.listCollections();
  }

  createdAt(name: string): Promise<Date | null> {
    return this.collections.createdAt(name);
  }

  isLegacyLayout(name: string): Promise<boolean> {
    return this.collections.isLegacyLayout(name);
  }

  ensurePayloadIndexes(name: string): Promise<void> {
    return this.collections.ensurePayloadIndexes(name);
  }

  createLayout(name: string, recorded?: { provider?: string; model?: string }): Promise<void> {
    return this.collections.createLayout(name, recorded);
  }

  switchAlias(target: string): Promise<void> {
    return this.collections.switchAlias(target);
  }

  dropCollection(name: string): Promise<void> {
    return this.collections.dropCollection(name);
  }

  upsert(points: VectorPoint[]): Promise<void> {
    return this.points.upsert(points);
  }

  deleteIds(ids: string[]): Promise<void> {
    return this.points.deleteIds(ids);
  }

  deleteCatalog(catalogId: string): Promise<void> {
    return this.points.deleteCatalog(catalogId);
  }

  search(query: HybridQuery, options: SearchOptions): Promise<SearchHit[]> {
    return this.points.search(query, options);
  }

  count(catalogId: string): Promise<number> {
    return this.points.count(catalogId);
  }

  /** See {@link QdrantPoints.existingIds}. */
  existingIds(ids: readonly string[]): Promise<Set<string>> {
    return this.points.existingIds(ids);
  }

  listIds(catalogId: string): Promise<string[]> {
    return this.points.listIds(catalogId);
  }

  catalogIds(): Promise<Set<string>> {
    return this.points.catalogIds();
  }

  scrollPoints(pageSize?: number): AsyncGenerator<{ id: string; vector: unknown; payload: Record<string, unknown> }[]> {
    return this.points.scrollPoints(pageSize);
  }
}
