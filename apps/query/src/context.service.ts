import { chunkDocument, chunkExample } from '@catalog-indexer/catalog';
import { type HydratedEmbedding } from '@catalog-indexer/db';
import { AppError } from '@catalog-indexer/http';
import { type SearchHit } from '@catalog-indexer/vector-store';
import { type CatalogGraph, type Join } from './catalog-graph';
import { type CatalogGraphCache } from './catalog-graph.cache';
import { packContext, type PackedContext, type Quotable } from './context-packer';
import { type QuotedDocument, type QuotedExample } from './context-renderer';
import { LineTokens } from './line-tokens';
import { since, type SearchService, type SearchTimings } from './search.service';
import { chooseTables, type ChosenTable } from './table-chooser';
import { rankTables, stringValue, type RankedChunk } from './table-ranker';

export type { ContextColumn, ContextTable } from './context-packer';

export interface ContextRequest {
  catalogId: string;
  question: string;
  /** Tables in the answer, bridge tables included. */
  maxTables: number;
  /** Most cl100k tokens of `text`. */
  tokenBudget: number;
}

export interface ContextResponse extends PackedContext {
  timings: SearchTimings & { contextMs: number };
}

/** Payload fields a hit carries from Qdrant: what ranking tables needs of it. */
const HIT_PAYLOAD = ['kind', 'schema', 'table', 'column', 'chunk_key'] as const;

/**
 * Rounds of checking the chunks a ranking stands on before every remaining hit is checked at once: each
 * round after the first happens only when a reindex left points without a current row among them.
 */
const MAX_CHECK_ROUNDS = 3;

const STRUCTURE = new Set(['table', 'column', 'relationship']);
/** Kinds the context quotes (from their rows' metadata); of the others it needs only to know that they are current. */
const QUOTED_KINDS = ['document', 'example'];
const QUOTED = new Set(QUOTED_KINDS);

/** A hit as the context ranks it: from its Qdrant payload, until its row is read. */
interface Candidate extends RankedChunk {
  id: string;
}

/** A hit's kind and names from its payload; a relationship's referenced table from the catalog graph. */
function candidateOf(hit: SearchHit, graph: CatalogGraph): Candidate {
  const payload = hit.payload ?? {};
  const kind = stringValue(payload.kind) ?? '';
  const metadata: Record<string, unknown> = {};
  for (const field of ['schema', 'table', 'column'] as const) {
    const value = stringValue(payload[field]);
    if (value !== undefined) metadata[field] = value;
  }
  const chunkKey = stringValue(payload.chunk_key);
  const referenced = kind === 'relationship' && chunkKey !== undefined ? graph.referencedBy(chunkKey) : undefined;
  if (referenced) {
    metadata.referencedSchema = referenced.schema;
    metadata.referencedTable = referenced.table;
  }
  return { id: hit.id, kind, score: hit.score, metadata };
}

/** The examples and documents among the candidates, best first, as their rows' metadata carries them. */
function quotableOf(candidates: readonly Candidate[], rows: ReadonlyMap<string, HydratedEmbedding>): Quotable {
  const examples: QuotedExample[] = [];
  const documents: QuotedDocument[] = [];
  for (const c of candidates) {
    const metadata = QUOTED.has(c.kind) ? rows.get(c.id)?.metadata : undefined;
    if (!metadata) continue;
    const quoted = c.kind === 'example' ? chunkExample(metadata) : undefined;
    if (quoted) examples.push(quoted);
    const document = c.kind === 'document' ? chunkDocument(metadata) : undefined;
    if (document) documents.push(document);
  }
  return { examples, documents };
}

/**
 * `POST /v1/context`: what a SQL generator needs for one question. The same hybrid query as `/v1/search`
 * over a wide window of candidates, tables ranked by their best chunks (see `rankTables`) on the hits'
 * payloads and chosen with the join paths between them (see `chooseTables`), with the rows of the chunks
 * the answer stands on read from Postgres; then packed into the token budget (see `packContext`) and
 * rendered as SQL (see `renderContext`). Documents and examples are quoted from their rows' metadata.
 */
export class ContextService {
  /** Token counts of lines, kept between requests. */
  private readonly tokens = new LineTokens();

  constructor(
    private readonly search: SearchService,
    private readonly graphs: CatalogGraphCache,
    private readonly candidates: number,
  ) {}

  async context(request: ContextRequest): Promise<ContextResponse> {
    const [graph, retrieved] = await Promise.all([
      this.graphs.get(request.catalogId),
      this.search.retrieve({ catalogId: request.catalogId, query: request.question, limit: this.candidates, payload: HIT_PAYLOAD }),
    ]);
    if (!graph) throw new AppError('not_found', `no catalog ${request.catalogId}`);
    const t0 = process.hrtime.bigint();
    const { choice, candidates, rows, hydrateMs } = await this.chooseOnCurrentRows(request, graph, retrieved.hits);
    const packed = packContext(choice.chosen, choice.joins, quotableOf(candidates, rows), request.tokenBudget, this.tokens);
    const contextMs = Math.max(0, Math.round((since(t0) - hydrateMs) * 100) / 100);
    const totalMs = Math.round((retrieved.timings.totalMs + hydrateMs + contextMs) * 100) / 100;
    return { ...packed, timings: { ...retrieved.timings, hydrateMs, contextMs, totalMs } };
  }

  /**
   * Postgres decides visibility: tables are ranked on the hits' payloads, then the rows of the chunks the
   * answer stands on (every chunk of each chosen table, and the documents and examples) are read; a chunk
   * without a current row is dropped and the ranking made again. Dropping a hit only lowers the score of
   * its table, so once every chunk of the chosen tables is current, the choice is the one a check of all
   * the hits would have made, at a fraction of the rows read.
   */
  private async chooseOnCurrentRows(
    request: ContextRequest,
    graph: CatalogGraph,
    hits: readonly SearchHit[],
  ): Promise<{ choice: { chosen: ChosenTable[]; joins: Join[] }; candidates: Candidate[]; rows: Map<string, HydratedEmbedding>; hydrateMs: number }> {
    let hydrateMs = 0;
    let candidates = hits.map((hit) => candidateOf(hit, graph));
    const rows = new Map<string, HydratedEmbedding>();
    for (let round = 1; ; round++) {
      const ranked = rankTables(candidates.filter((c) => STRUCTURE.has(c.kind)));
      const choice = chooseTables(graph, ranked, request.maxTables);
      const scores = new Map(ranked.map((t) => [t.key, t]));
      const needed = new Set<string>();
      for (const c of choice.chosen) for (const chunk of scores.get(c.graph.key)?.chunks ?? []) needed.add(chunk.id);
      for (const c of candidates) if (QUOTED.has(c.kind)) needed.add(c.id);
      let unread = [...needed].filter((id) => !rows.has(id));
      if (unread.length === 0) return { choice, candidates, rows, hydrateMs };
      if (round > MAX_CHECK_ROUNDS) unread = candidates.filter((c) => !rows.has(c.id)).map((c) => c.id);
      const t1 = process.hrtime.bigint();
      const read = await this.search.hydrate(unread, QUOTED_KINDS);
      hydrateMs += since(t1);
      const dropped = new Set<string>();
      for (const id of unread) {
        const row = read.get(id);
        if (row && row.catalogId === request.catalogId) rows.set(id, row);
        else dropped.add(id);
      }
      if (dropped.size > 0) candidates = candidates.filter((c) => !dropped.has(c.id));
    }
  }
}
