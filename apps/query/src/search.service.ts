import { type EmbeddingRepository } from '@catalog-indexer/db';
import { identityName, toNumberArray, type Embedder } from '@catalog-indexer/embeddings';
import { querySparseVector, type SparseVector } from '@catalog-indexer/text';
import { VectorStoreError, type FusionOptions, type SearchHit, type VectorReader } from '@catalog-indexer/vector-store';
import { type IndexCoverage } from './index-coverage';
import { FixedSpace, type QuerySpace, type SpaceSource } from './served-space';

export interface SearchRequest {
  catalogId: string;
  query: string;
  limit: number;
  kinds?: string[];
  schemas?: string[];
  tables?: string[];
}

export interface SearchResultItem {
  id: string;
  kind: string;
  score: number;
  content: string;
  key: string;
  metadata: Record<string, unknown>;
}

/** Milliseconds per stage of a request. */
export interface SearchTimings {
  /** Embedding the question (the model's time, or the local embedder's). */
  embedMs: number;
  /** Analysing the question into its sparse terms. */
  analyzeMs: number;
  /** Qdrant's hybrid query, round trip. */
  searchMs: number;
  /** The Postgres read of the hits. */
  hydrateMs: number;
  totalMs: number;
}

/**
 * The space an answer comes from: the embedder identity the question was embedded with
 * (`openai/text-embedding-3-large@3072`) and the collection searched (`null`: the configured name).
 */
export interface AnswerSpace {
  embedder: string;
  collection: string | null;
}

export interface SearchResponse {
  results: SearchResultItem[];
  timings: SearchTimings;
  space: AnswerSpace;
}

/** Hits of {@link SearchService.retrieve}, not hydrated. */
export interface RetrieveResponse {
  hits: SearchHit[];
  timings: Omit<SearchTimings, 'hydrateMs'>;
}

/** How the hybrid query is fused (from config `retrieval`). */
export interface FusionSettings {
  denseWeight: number;
  sparseWeight: number;
  rrfK: number;
  /** Chunks each prefetch returns: wide, so one wide table's columns cannot fill the window. */
  candidates: number;
}

/**
 * How much wider than the answer each prefetch is: the fused ranking is the same whichever limit is asked
 * for, so the first round asks for exactly `limit` hits (all of them hydrated) over prefetches this much
 * wider, and only a round whose hits hydration thinned asks for more.
 */
const OVERFETCH = 1.5;
/** When hydration dropped too many hits, ask again for this many times as many. */
const REFETCH_GROWTH = 4;
/** Most hits one query asks Qdrant for, however many hydration drops: bounds the cost of a query. */
const MAX_FETCH = 1_000;

/** Milliseconds since `start`, to 0.01 ms. */
export const since = (start: bigint): number => Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;

/**
 * The read path: embed the question and analyse it into terms, run Qdrant's hybrid query (a dense and a
 * sparse prefetch over the catalog's points, fused by weighted reciprocal rank fusion), then hydrate the hits
 * from Postgres in one query. Postgres decides visibility: hits without a current row are dropped. The
 * question is embedded in the space of the collection searched (see {@link ServedSpace}).
 */
export class SearchService {
  private readonly spaces: SpaceSource;

  constructor(
    embedder: Embedder | SpaceSource,
    private readonly store: VectorReader,
    private readonly embeddings: EmbeddingRepository,
    private readonly fusion: FusionSettings,
    /** When given, a catalog whose points the vector store lost is answered 503 `index_rebuilding`, not empty. */
    private readonly coverage?: IndexCoverage,
  ) {
    this.spaces = 'embed' in embedder ? new FixedSpace(embedder) : embedder;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    await this.coverage?.guard(request.catalogId);
    const response = await this.inServedSpace((space) => this.searchIn(space, request)).catch((error: unknown) => this.lost(request.catalogId, error));
    if (response.results.length === 0) await this.coverage?.assertServing(request.catalogId);
    return response;
  }

  /**
   * The fused hits of a question with the payload fields asked for, not hydrated: for a caller that ranks
   * on the payload and hydrates what it keeps itself ({@link hydrate}), as the context does.
   */
  async retrieve(request: Omit<SearchRequest, 'kinds' | 'schemas' | 'tables'> & { payload: readonly string[] }): Promise<RetrieveResponse> {
    await this.coverage?.guard(request.catalogId);
    const response = await this.inServedSpace(async (space) => {
      const t0 = process.hrtime.bigint();
      const { dense, sparse, embedMs, analyzeMs } = await this.vectors(space, request.query);
      const t2 = process.hrtime.bigint();
      const hits = await this.store.search(
        { dense, sparse },
        {
          catalogId: request.catalogId,
          collection: space.collection,
          limit: Math.min(request.limit, MAX_FETCH),
          fusion: this.fusionFor(request.limit),
          payload: request.payload,
        },
      );
      const searchMs = since(t2);
      return { hits, timings: { embedMs, analyzeMs, searchMs, totalMs: since(t0) } };
    }).catch((error: unknown) => this.lost(request.catalogId, error));
    if (response.hits.length === 0) await this.coverage?.assertServing(request.catalogId);
    return response;
  }

  /** The visible rows among `ids`, with the text of the kinds in `textOf` only (see `EmbeddingRepository.hydrate`). */
  hydrate(ids: string[], textOf: readonly string[]): ReturnType<EmbeddingRepository['hydrate']> {
    return this.embeddings.hydrate(ids, { textOf });
  }

  /**
   * A search that found the served collection missing: while the index is being rebuilt that is the catalog's
   * 503 `index_rebuilding` (when coverage is watched), otherwise the vector store's error as it is.
   */
  private async lost(catalogId: string, error: unknown): Promise<never> {
    if (error instanceof VectorStoreError && error.status === 404) await this.coverage?.assertServing(catalogId);
    throw error;
  }

  /** Runs `query` in the served space; resolves the space again once if its collection was dropped meanwhile. */
  private async inServedSpace<T>(query: (space: QuerySpace) => Promise<T>): Promise<T> {
    const space = await this.spaces.current();
    try {
      return await query(space);
    } catch (error) {
      // The collection resolved was dropped after a switch of embedding space: resolve again, once.
      if (!(error instanceof VectorStoreError && error.status === 404 && space.collection !== undefined)) throw error;
      this.spaces.refresh();
      return query(await this.spaces.current());
    }
  }

  private async vectors(space: QuerySpace, query: string): Promise<{ dense: number[]; sparse: SparseVector; embedMs: number; analyzeMs: number }> {
    const t0 = process.hrtime.bigint();
    const { vectors } = await space.embedder.embed([query]);
    const embedMs = since(t0);
    const vector = vectors[0];
    if (!vector) throw new Error('the embedder returned no vector');
    const dense = toNumberArray(vector);
    const t1 = process.hrtime.bigint();
    const sparse = querySparseVector(query);
    return { dense, sparse, embedMs, analyzeMs: since(t1) };
  }

  /**
   * The fusion of a query answering `limit` hits: each prefetch {@link OVERFETCH} times wider than the answer,
   * and never narrower than configured.
   */
  private fusionFor(limit: number): FusionOptions {
    return {
      denseWeight: this.fusion.denseWeight,
      sparseWeight: this.fusion.sparseWeight,
      k: this.fusion.rrfK,
      prefetchLimit: Math.max(this.fusion.candidates, Math.min(Math.ceil(limit * OVERFETCH), MAX_FETCH)),
    };
  }

  private async searchIn(space: QuerySpace, request: SearchRequest): Promise<SearchResponse> {
    const t0 = process.hrtime.bigint();
    const { dense, sparse, embedMs, analyzeMs } = await this.vectors(space, request.query);
    const fusion = this.fusionFor(request.limit);
    let searchMs = 0;
    let hydrateMs = 0;
    let fetchLimit = Math.min(request.limit, MAX_FETCH);
    let results: SearchResultItem[];
    // Points without a current row (a reindex in progress writes points before it activates their rows)
    // can crowd the top of the ranking; ask again for more rather than return fewer results than exist.
    for (;;) {
      const t2 = process.hrtime.bigint();
      const hits = await this.store.search(
        { dense, sparse },
        {
          catalogId: request.catalogId,
          collection: space.collection,
          limit: fetchLimit,
          kinds: request.kinds,
          schemas: request.schemas,
          tables: request.tables,
          fusion: { ...fusion, prefetchLimit: Math.max(fusion.prefetchLimit, fetchLimit) },
        },
      );
      searchMs += since(t2);
      const t3 = process.hrtime.bigint();
      // Every round hydrates all its hits, so the answer reflects one read of Postgres, never a mix.
      const rows = await this.embeddings.hydrate(hits.map((h) => h.id));
      hydrateMs += since(t3);
      results = [];
      for (const hit of hits) {
        const row = rows.get(hit.id);
        if (!row || row.catalogId !== request.catalogId) continue;
        results.push({ id: row.id, kind: row.kind, score: hit.score, content: row.content, key: row.itemKey, metadata: row.metadata });
        if (results.length >= request.limit) break;
      }
      const exhausted = hits.length < fetchLimit || fetchLimit >= MAX_FETCH;
      if (results.length >= request.limit || exhausted) break;
      fetchLimit = Math.min(fetchLimit * REFETCH_GROWTH, MAX_FETCH);
    }
    return {
      results,
      timings: { embedMs, analyzeMs, searchMs, hydrateMs, totalMs: since(t0) },
      space: { embedder: identityName(space.embedder), collection: space.collection ?? null },
    };
  }
}
