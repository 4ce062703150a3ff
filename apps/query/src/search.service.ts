import { type EmbeddingRepository } from '@catalog-indexer/db';
import { type Embedder } from '@catalog-indexer/embeddings';
import { type QdrantStore } from '@catalog-indexer/vector-store';

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

export interface SearchResponse {
  results: SearchResultItem[];
  timings: { embedMs: number; searchMs: number; hydrateMs: number; totalMs: number };
}

/** How many extra hits to ask Qdrant for, since hydration may drop some (rows not current). */
const OVERFETCH = 1.5;

const since = (start: bigint): number => Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100;

/**
 * The read path: embed the question, search the catalog's points in Qdrant, then hydrate the hits from
 * Postgres in one query. Postgres decides visibility: hits without a current row are dropped.
 */
export class SearchService {
  constructor(
    private readonly embedder: Embedder,
    private readonly store: QdrantStore,
    private readonly embeddings: EmbeddingRepository,
  ) {}

  async search(request: SearchRequest): Promise<SearchResponse> {
    const t0 = process.hrtime.bigint();
    const { vectors } = await this.embedder.embed([request.query]);
    const embedMs = since(t0);
    const vector = vectors[0];
    if (!vector) throw new Error('the embedder returned no vector');
    const t1 = process.hrtime.bigint();
    const hits = await this.store.search(vector, {
      catalogId: request.catalogId,
      limit: Math.ceil(request.limit * OVERFETCH),
      kinds: request.kinds,
      schemas: request.schemas,
      tables: request.tables,
    });
    const searchMs = since(t1);
    const t2 = process.hrtime.bigint();
    const rows = await this.embeddings.hydrate(hits.map((h) => h.id));
    const hydrateMs = since(t2);
    const results: SearchResultItem[] = [];
    for (const hit of hits) {
      const row = rows.get(hit.id);
      if (!row || row.catalogId !== request.catalogId) continue;
      results.push({ id: row.id, kind: row.kind, score: hit.score, content: row.content, key: row.itemKey, metadata: row.metadata });
      if (results.length >= request.limit) break;
    }
    return { results, timings: { embedMs, searchMs, hydrateMs, totalMs: since(t0) } };
  }
}
