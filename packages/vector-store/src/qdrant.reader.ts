import { QdrantCollections, type QdrantCollectionsOptions } from './qdrant.collections';
import { QdrantConnection, type QdrantConnectionOptions } from './qdrant.connection';
import { QdrantPoints } from './qdrant.points';
import { type HybridQuery, type SearchHit, type SearchOptions, type ServedCollection } from './qdrant.types';
import { type VectorReader } from './vector-reader';

/** Where Qdrant is, and the configured name and embedder (the space searched while nothing is served yet). */
export type QdrantReaderOptions = QdrantConnectionOptions & Pick<QdrantCollectionsOptions, 'collection' | 'dimensions' | 'model' | 'provider'>;

/**
 * The index as the api and the query service see it: reads only. Its points have no recovery hook and its
 * collections are only resolved, so a request on a missing collection fails (status 404) and leaves Qdrant
 * as it was: only a writer creates collections.
 */
export class QdrantReader implements VectorReader {
  readonly collection: string;
  readonly dimensions: number;
  readonly model: string | undefined;
  readonly provider: string | undefined;
  readonly #collections: QdrantCollections;
  readonly #points: QdrantPoints;

  constructor(options: QdrantReaderOptions) {
    this.collection = options.collection;
    this.dimensions = options.dimensions;
    this.model = options.model;
    this.provider = options.provider;
    const connection = new QdrantConnection(options);
    this.#collections = new QdrantCollections(connection, {
      collection: options.collection,
      dimensions: options.dimensions,
      model: options.model,
      provider: options.provider,
    });
    this.#points = new QdrantPoints(connection, { collection: options.collection });
  }

  served(): Promise<ServedCollection | null> {
    return this.#collections.served();
  }

  resolve(): Promise<string | null> {
    return this.#collections.resolve();
  }

  collectionExists(): Promise<boolean> {
    return this.#collections.collectionExists();
  }

  countAll(): Promise<number | null> {
    return this.#collections.countAll();
  }

  ping(): Promise<boolean> {
    return this.#collections.ping();
  }

  search(query: HybridQuery, options: SearchOptions): Promise<SearchHit[]> {
    return this.#points.search(query, options);
  }

  count(catalogId: string): Promise<number> {
    return this.#points.count(catalogId);
  }

  existingIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#points.existingIds(ids);
  }
}
