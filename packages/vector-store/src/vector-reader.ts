import { type HybridQuery, type SearchHit, type SearchOptions, type ServedCollection } from './qdrant.types';

/**
 * What a reader of the index (the api, the query service) may do with Qdrant: find what the configured
 * name serves, search, count. Nothing here creates or changes a collection; a collection that is missing
 * is reported (an error with status 404, `collectionExists()` false), never created again.
 */
export interface VectorReader {
  readonly collection: string;
  readonly dimensions: number;
  readonly model: string | undefined;
  /** The configured embedder's provider, when known (see `EmbeddingSpace`). */
  readonly provider: string | undefined;
  served(): Promise<ServedCollection | null>;
  resolve(): Promise<string | null>;
  collectionExists(): Promise<boolean>;
  ping(): Promise<boolean>;
  search(query: HybridQuery, options: SearchOptions): Promise<SearchHit[]>;
  count(catalogId: string): Promise<number>;
  /** Which of `ids` have a point in the served collection. */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
  /** Points of the served collection over all catalogs; `null` when it is missing. */
  countAll(): Promise<number | null>;
}
