import { type CatalogColumn } from '@catalog-indexer/catalog';
import { type HydratedEmbedding } from '@catalog-indexer/db';
import { AppError } from '@catalog-indexer/http';
import { type SearchHit } from '@catalog-indexer/vector-store';
import { countTokens, tokenSegments } from '@catalog-indexer/text';
import { type CatalogGraph, type GraphTable, type Join } from './catalog-graph';
import { type CatalogGraphCache } from './catalog-graph.cache';
import { since, type SearchResultItem, type SearchService, type SearchTimings } from './search.service';
import { rankTables, stringValue, type RankedChunk, type TableScore } from './table-ranker';

export interface ContextRequest {
  catalogId: string;
  question: string;
  /** Tables in the answer, bridge tables included. */
  maxTables: number;
  /** Most cl100k tokens of `text`. */
  tokenBudget: number;
}

export interface ContextColumn {
  name: string;
  type: string;
  description?: string;
  primaryKey?: boolean;
}

export interface ContextTable {
  schema: string;
  table: string;
  score: number;
  description?: string;
  /** True for a table added because a join path between chosen tables passes through it. */
  bridge?: boolean;
  columns: ContextColumn[];
}

export interface ContextResponse {
  tables: ContextTable[];
  joins: Join[];
  documents: { title: string; text: string }[];
  examples: { question: string; sql: string }[];
  text: string;
  tokens: number;
  timings: SearchTimings & { contextMs: number };
}

/** Rules of the context, in one place. */
export const CONTEXT_RULES = {
  /** Longest join path (in foreign keys) followed to connect a table to those chosen before it. */
  maxJoinEdges: 2,
  /** Documents and examples offered at most. */
  documents: 2,
  examples: 3,
} as const;

/** Payload fields a hit carries from Qdrant: what ranking tables needs of it. */
const HIT_PAYLOAD = ['kind', 'schema', 'table', 'column', 'chunk_key'] as const;

/**
 * Rounds of checking the chunks a ranking stands on before every remaining hit is checked at once: each
 * round after the first happens only when a reindex left points without a current row among them.
 */
const MAX_CHECK_ROUNDS = 3;

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

const STRUCTURE = new Set(['table', 'column', 'relationship']);
/** Kinds whose text the context quotes; of the others it needs only to know that they are current. */
const QUOTED_KINDS = ['document', 'example'];
const QUOTED = new Set(QUOTED_KINDS);

const SIMPLE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An identifier as SQL writes it: bare when simple, else double-quoted with quotes doubled. */
export function sqlName(name: string): string {
  return SIMPLE_IDENTIFIER.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** One line of a comment: line breaks flattened so a description cannot end the comment. */
const comment = (text: string): string => text.replace(/\s+/g, ' ').trim();

interface Chosen {
  graph: GraphTable;
  score: number;
  bridge: boolean;
  /** Column name → its best hit score, for the columns the question touched. */
  hitColumns: Map<string, number>;
  /** Columns that must stay: primary keys and columns of the joins in the answer. */
  keyColumns: Set<string>;
  /** Columns shown, in priority order while packing. */
  shown: Set<string>;
}

/** Segments whose token counts are kept between requests (the lines of one catalog's tables repeat). */
const TOKEN_CACHE_LINES = 50_000;

/**
 * Token counter with caches shared by every request. The text is counted as its segments (see
 * `tokenSegments`): a line followed by a line break and a line that starts with text (every line of a
 * context does) is a segment of its own, `line + "\n"`, and its count is exactly what it adds to the text.
 * Packing counts each line so and reserves one token for each blank line, which never undercounts; the
 * final text is counted exactly from the same cached counts.
 */
const tokens = {
  /** Counts of segments, the oldest dropped first once {@link TOKEN_CACHE_LINES} are kept. */
  segments: new Map<string, number>(),
  /** Counts of column lines by column: a catalog's graph keeps its column objects while its version lasts. */
  columns: new WeakMap<CatalogColumn, number>(),
  segment(text: string): number {
    let n = this.segments.get(text);
    if (n === undefined) {
      n = countTokens(text);
      if (this.segments.size >= TOKEN_CACHE_LINES) this.segments.delete(this.segments.keys().next().value!);
      this.segments.set(text, n);
    }
    return n;
  },
  /** What `line` adds to the text, its line break included. */
  count(line: string): number {
    return this.segment(`${line}\n`);
  },
  /** What the line of `column` (not the last of its table) adds to the text. */
  column(column: CatalogColumn): number {
    let n = this.columns.get(column);
    if (n === undefined) {
      n = this.count(columnLine(column, false));
      this.columns.set(column, n);
    }
    return n;
  },
  exact(text: string): number {
    let n = 0;
    for (const segment of tokenSegments(text)) n += this.segment(segment);
    return n;
  },
};

/**
 * `POST /v1/context`: what a SQL generator needs for one question. The same hybrid query as `/v1/search`
 * over a wide window of candidates, tables ranked by their best chunks (see `rankTables`) on the hits'
 * payloads, with the rows of the chunks the answer stands on read from Postgres, then joined along the
 * catalog's foreign keys: each table is connected to those chosen before it by a shortest path of at most
 * {@link CONTEXT_RULES.maxJoinEdges} foreign keys, and the tables that path passes through are added as
 * bridge tables right after it. Columns: keys always, then the columns the question touched, then the
 * others while the token budget lasts; matching documents and examples are added when they fit.
 */
export class ContextService {
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
    let hydrateMs = 0;
    // Postgres decides visibility: tables are ranked on the hits' payloads, then the rows of the chunks the
    // answer stands on (every chunk of each chosen table, and the documents and examples) are read; a chunk
    // without a current row is dropped and the ranking made again. Dropping a hit only lowers the score of
    // its table, so once every chunk of the chosen tables is current, the choice is the one a check of all
    // the hits would have made, at a fraction of the rows read.
    let candidates = retrieved.hits.map((hit) => candidateOf(hit, graph));
    const rows = new Map<string, HydratedEmbedding>();
    let choice: ReturnType<typeof chooseTables>;
    for (let round = 1; ; round++) {
      const ranked = rankTables(candidates.filter((c) => STRUCTURE.has(c.kind)));
      choice = chooseTables(graph, ranked, request.maxTables);
      const scores = new Map(ranked.map((t) => [t.key, t]));
      const needed = new Set<string>();
      for (const c of choice.chosen) for (const chunk of scores.get(c.graph.key)?.chunks ?? []) needed.add(chunk.id);
      for (const c of candidates) if (QUOTED.has(c.kind)) needed.add(c.id);
      let unread = [...needed].filter((id) => !rows.has(id));
      if (unread.length === 0) break;
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
    const quoted: SearchResultItem[] = [];
    for (const c of candidates) {
      const row = QUOTED.has(c.kind) ? rows.get(c.id) : undefined;
      if (row) quoted.push({ id: row.id, kind: row.kind, score: c.score, content: row.content, key: row.itemKey, metadata: row.metadata });
    }
    const packed = pack(choice.chosen, choice.joins, quoted, request.tokenBudget);
    const contextMs = Math.max(0, Math.round((since(t0) - hydrateMs) * 100) / 100);
    const totalMs = Math.round((retrieved.timings.totalMs + hydrateMs + contextMs) * 100) / 100;
    return { ...packed, timings: { ...retrieved.timings, hydrateMs, contextMs, totalMs } };
  }
}

/** The tables of the answer, in order, with the joins between them (see {@link ContextService}). */
export function chooseTables(graph: CatalogGraph, ranked: readonly TableScore[], maxTables: number): { chosen: Chosen[]; joins: Join[] } {
  const scoreOf = new Map(ranked.map((t) => [t.key, t]));
  const chosen: Chosen[] = [];
  const keys = new Set<string>();
  const joins: Join[] = [];
  const make = (table: GraphTable, bridge: boolean): Chosen => {
    const score = scoreOf.get(table.key);
    const hitColumns = new Map<string, number>();
    for (const chunk of score?.chunks ?? []) {
      const column = chunk.metadata.column;
      if (chunk.kind === 'column' && typeof column === 'string' && !hitColumns.has(column)) hitColumns.set(column, chunk.score);
    }
    const keyColumns = new Set(table.columns.filter((c) => c.primaryKey === true).map((c) => c.name));
    return { graph: table, score: score?.score ?? 0, bridge, hitColumns, keyColumns, shown: new Set() };
  };
  for (const candidate of ranked) {
    if (chosen.length >= maxTables) break;
    const table = graph.tables.get(candidate.key);
    if (!table || keys.has(table.key)) continue;
    const path = keys.size > 0 ? graph.shortestPath(keys, table.key, CONTEXT_RULES.maxJoinEdges) : null;
    const bridges = (path?.via ?? []).filter((k) => !keys.has(k));
    const fits = chosen.length + 1 + bridges.length <= maxTables;
    chosen.push(make(table, false));
    keys.add(table.key);
    if (!path || !fits) continue;
    for (const key of bridges) {
      const bridge = graph.tables.get(key);
      if (!bridge) continue;
      chosen.push(make(bridge, true));
      keys.add(key);
    }
    joins.push(...path.joins);
  }
  const byKey = new Map(chosen.map((c) => [c.graph.key, c]));
  for (const join of joins) {
    for (const end of [join.from, join.to]) {
      const c = [...byKey.values()].find((x) => x.graph.schema === end.schema && x.graph.table === end.table);
      for (const column of end.columns) c?.keyColumns.add(column);
    }
  }
  return { chosen, joins };
}

function columnLine(column: CatalogColumn, last: boolean): string {
  const pk = column.primaryKey === true ? ' PRIMARY KEY' : '';
  const nn = column.nullable === false && column.primaryKey !== true ? ' NOT NULL' : '';
  const note = column.description ? ` -- ${comment(column.description)}` : '';
  return `  ${sqlName(column.name)} ${column.type}${pk}${nn}${last ? '' : ','}${note}`;
}

function tableHeader(table: GraphTable): string[] {
  const kind = table.type === 'view' ? 'VIEW' : 'TABLE';
  const lines = table.description ? [`-- ${comment(table.description)}`] : [];
  lines.push(`CREATE ${kind} ${sqlName(table.schema)}.${sqlName(table.table)} (`);
  return lines;
}

function joinLine(join: Join): string {
  const pairs = join.from.columns.map(
    (c, i) =>
      `${sqlName(join.from.schema)}.${sqlName(join.from.table)}.${sqlName(c)} = ${sqlName(join.to.schema)}.${sqlName(join.to.table)}.${sqlName(join.to.columns[i] ?? '')}`,
  );
  return `-- JOIN ON ${pairs.join(' AND ')}`;
}

function renderTable(c: Chosen): string[] {
  const columns = c.graph.columns.filter((col) => c.shown.has(col.name));
  const lines = tableHeader(c.graph);
  columns.forEach((col, i) => lines.push(columnLine(col, i === columns.length - 1)));
  const hidden = c.graph.columns.length - columns.length;
  lines.push(hidden > 0 ? `  -- … and ${hidden} more columns` : '', ');');
  return lines.filter((l) => l !== '');
}

function documentParts(hit: SearchResultItem): { title: string; text: string } {
  const title = typeof hit.metadata.title === 'string' ? hit.metadata.title : '';
  const newline = hit.content.indexOf('\n');
  return { title, text: newline >= 0 ? hit.content.slice(newline + 1) : hit.content };
}

function exampleParts(hit: SearchResultItem): { question: string; sql: string } {
  const match = /^Question: ([\s\S]*?)\nSQL: ([\s\S]*)$/.exec(hit.content);
  const question = typeof hit.metadata.question === 'string' ? hit.metadata.question : '';
  return { question: match?.[1] ?? question, sql: match?.[2] ?? '' };
}

/**
 * Fills the budget in order of need: each table with its key and touched columns (a table that does not fit
 * ends the list), the joins, then examples and documents, then the remaining columns of each table in rank
 * order. Lines are counted one by one while packing (see {@link tokens}); the final text is counted exactly.
 */
function pack(chosen: Chosen[], joins: Join[], hits: SearchResultItem[], budget: number): Omit<ContextResponse, 'timings'> {
  let used = 0;
  const take = (n: number): boolean => {
    if (used + n > budget) return false;
    used += n;
    return true;
  };
  const fits = (lines: string[]): boolean => take(lines.reduce((sum, l) => sum + tokens.count(l), 0));
  const fitsColumn = (column: CatalogColumn): boolean => take(tokens.column(column));
  const tables: Chosen[] = [];
  for (const c of chosen) {
    const first = [...c.graph.columns.filter((col) => c.keyColumns.has(col.name)).map((col) => col.name)];
    const touched = [...c.hitColumns.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    // The closing line, the line that says how many columns are left out, and the blank line after the table.
    const lines = [...tableHeader(c.graph), ');', '  -- … and 999 more columns', ''];
    if (!fits(lines)) break;
    tables.push(c);
    for (const name of [...first, ...touched]) {
      const column = c.graph.columns.find((col) => col.name === name);
      if (!column || c.shown.has(name)) continue;
      if (!fitsColumn(column)) break;
      c.shown.add(name);
    }
  }
  const inAnswer = new Set(tables.map((t) => t.graph.key));
  const keyOf = (end: { schema: string; table: string }) => tables.find((t) => t.graph.schema === end.schema && t.graph.table === end.table);
  // The first join kept also reserves the blank line after the joins.
  const keptJoins: Join[] = [];
  for (const j of joins) if (keyOf(j.from) && keyOf(j.to) && fits(keptJoins.length === 0 ? [joinLine(j), ''] : [joinLine(j)])) keptJoins.push(j);
  const examples: { question: string; sql: string }[] = [];
  for (const hit of hits.filter((h) => h.kind === 'example').slice(0, CONTEXT_RULES.examples)) {
    const e = exampleParts(hit);
    if (fits([`-- Q: ${comment(e.question)}`, e.sql, ''])) examples.push(e);
  }
  const documents: { title: string; text: string }[] = [];
  const seenTitles = new Set<string>();
  for (const hit of hits.filter((h) => h.kind === 'document')) {
    if (documents.length >= CONTEXT_RULES.documents) break;
    const d = documentParts(hit);
    if (seenTitles.has(d.title)) continue;
    if (fits([`-- Document: ${d.title}`, ...d.text.split('\n').map((l) => `-- ${l}`), ''])) {
      documents.push(d);
      seenTitles.add(d.title);
    }
  }
  for (const c of tables) {
    for (const column of c.graph.columns) {
      if (c.shown.has(column.name)) continue;
      if (!fitsColumn(column)) break;
      c.shown.add(column.name);
    }
  }
  const lines: string[] = [];
  for (const c of tables) lines.push(...renderTable(c), '');
  for (const j of keptJoins) lines.push(joinLine(j));
  if (keptJoins.length > 0) lines.push('');
  for (const e of examples) lines.push(`-- Q: ${comment(e.question)}`, e.sql, '');
  for (const d of documents) lines.push(`-- Document: ${d.title}`, ...d.text.split('\n').map((l) => `-- ${l}`), '');
  const text = lines.join('\n').trimEnd();
  return {
    tables: tables
      .filter((c) => inAnswer.has(c.graph.key))
      .map((c) => ({
        schema: c.graph.schema,
        table: c.graph.table,
        score: c.score,
        ...(c.graph.description ? { description: c.graph.description } : {}),
        ...(c.bridge ? { bridge: true } : {}),
        columns: c.graph.columns
          .filter((col) => c.shown.has(col.name))
          .map((col) => ({
            name: col.name,
            type: col.type,
            ...(col.description ? { description: col.description } : {}),
            ...(col.primaryKey === true ? { primaryKey: true } : {}),
          })),
      })),
    joins: keptJoins,
    documents,
    examples,
    text,
    tokens: tokens.exact(text),
  };
}
