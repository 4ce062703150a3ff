import { type CatalogColumn } from '@catalog-indexer/catalog';
import { type Join } from './catalog-graph';
import { CONTEXT_RULES } from './context.rules';
import {
  columnLine,
  documentLines,
  exampleLines,
  joinLine,
  renderContext,
  tableFrameLines,
  type QuotedDocument,
  type QuotedExample,
} from './context-renderer';
import { type LineTokens } from './line-tokens';
import { type ChosenTable } from './table-chooser';

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

/** A context within its token budget: what it holds, its text and the text's cl100k tokens. */
export interface PackedContext {
  tables: ContextTable[];
  joins: Join[];
  documents: QuotedDocument[];
  examples: QuotedExample[];
  text: string;
  tokens: number;
}

/** What the context may quote besides tables, each list best first. */
export interface Quotable {
  examples: readonly QuotedExample[];
  documents: readonly QuotedDocument[];
}

/**
 * Fills the token budget in order of need: each chosen table with its key and touched columns (a table that
 * does not fit ends the list), the joins between tables kept, then up to {@link CONTEXT_RULES.examples}
 * examples and {@link CONTEXT_RULES.documents} documents (one part per title), then the remaining columns
 * of each table in rank order. Lines are counted one by one while packing, each blank line reserved as the
 * line it is (see {@link LineTokens}); the final text is counted exactly.
 */
export function packContext(chosen: readonly ChosenTable[], joins: readonly Join[], quotable: Quotable, budget: number, tokens: LineTokens): PackedContext {
  let used = 0;
  const take = (n: number): boolean => {
    if (used + n > budget) return false;
    used += n;
    return true;
  };
  const fits = (lines: string[]): boolean => take(tokens.lines(lines));
  const fitsColumn = (column: CatalogColumn): boolean => take(tokens.lineOf(column, (c) => columnLine(c, false)));

  const tables: { chosen: ChosenTable; shown: Set<string> }[] = [];
  for (const c of chosen) {
    const keys = c.graph.columns.filter((col) => c.keyColumns.has(col.name)).map((col) => col.name);
    const touched = [...c.hitColumns.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    if (!fits([...tableFrameLines(c.graph), ''])) break;
    const shown = new Set<string>();
    tables.push({ chosen: c, shown });
    for (const name of [...keys, ...touched]) {
      const column = c.graph.columns.find((col) => col.name === name);
      if (!column || shown.has(name)) continue;
      if (!fitsColumn(column)) break;
      shown.add(name);
    }
  }

  const inAnswer = (end: { schema: string; table: string }): boolean =>
    tables.some((t) => t.chosen.graph.schema === end.schema && t.chosen.graph.table === end.table);
  // The first join kept also reserves the blank line after the joins.
  const keptJoins: Join[] = [];
  for (const j of joins) if (inAnswer(j.from) && inAnswer(j.to) && fits(keptJoins.length === 0 ? [joinLine(j), ''] : [joinLine(j)])) keptJoins.push(j);

  const examples: QuotedExample[] = [];
  for (const e of quotable.examples.slice(0, CONTEXT_RULES.examples)) if (fits([...exampleLines(e), ''])) examples.push(e);

  const documents: QuotedDocument[] = [];
  const titles = new Set<string>();
  for (const d of quotable.documents) {
    if (documents.length >= CONTEXT_RULES.documents) break;
    if (titles.has(d.title)) continue;
    if (fits([...documentLines(d), ''])) {
      documents.push(d);
      titles.add(d.title);
    }
  }

  for (const { chosen: c, shown } of tables) {
    for (const column of c.graph.columns) {
      if (shown.has(column.name)) continue;
      if (!fitsColumn(column)) break;
      shown.add(column.name);
    }
  }

  const shownColumns = tables.map(({ chosen: c, shown }) => ({ c, columns: c.graph.columns.filter((col) => shown.has(col.name)) }));
  const text = renderContext({ tables: shownColumns.map(({ c, columns }) => ({ table: c.graph, columns })), joins: keptJoins, examples, documents });
  return {
    tables: shownColumns.map(({ c, columns }) => ({
      schema: c.graph.schema,
      table: c.graph.table,
      score: c.score,
      ...(c.graph.description ? { description: c.graph.description } : {}),
      ...(c.bridge ? { bridge: true } : {}),
      columns: columns.map((col) => ({
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
