import { type CatalogColumn } from '@catalog-indexer/catalog';
import { type GraphTable, type Join } from './catalog-graph';

/** An example as the context quotes it. */
export interface QuotedExample {
  question: string;
  sql: string;
}

/** A document (one part of it) as the context quotes it. */
export interface QuotedDocument {
  title: string;
  text: string;
}

/** What the text of a context shows, each list in its order. */
export interface ContextParts {
  tables: { table: GraphTable; columns: readonly CatalogColumn[] }[];
  joins: readonly Join[];
  examples: readonly QuotedExample[];
  documents: readonly QuotedDocument[];
}

const SIMPLE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An identifier as SQL writes it: bare when simple, else double-quoted with quotes doubled. */
export function sqlName(name: string): string {
  return SIMPLE_IDENTIFIER.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** One line of a comment: line breaks flattened so a description cannot end the comment. */
const comment = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The line of a column in its table's `CREATE` statement; `last` leaves out the comma. */
export function columnLine(column: CatalogColumn, last: boolean): string {
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

/** The lines `table` takes besides its columns, at most: its header, the closing line and the line that says how many columns are left out. */
export function tableFrameLines(table: GraphTable): string[] {
  return [...tableHeader(table), '  -- … and 999 more columns', ');'];
}

/** `table` as a `CREATE` statement showing `columns` (in the table's order) and how many it leaves out. */
export function tableLines(table: GraphTable, columns: readonly CatalogColumn[]): string[] {
  const lines = tableHeader(table);
  columns.forEach((col, i) => lines.push(columnLine(col, i === columns.length - 1)));
  const hidden = table.columns.length - columns.length;
  if (hidden > 0) lines.push(`  -- … and ${hidden} more columns`);
  lines.push(');');
  return lines;
}

export function joinLine(join: Join): string {
  const pairs = join.from.columns.map(
    (c, i) =>
      `${sqlName(join.from.schema)}.${sqlName(join.from.table)}.${sqlName(c)} = ${sqlName(join.to.schema)}.${sqlName(join.to.table)}.${sqlName(join.to.columns[i] ?? '')}`,
  );
  return `-- JOIN ON ${pairs.join(' AND ')}`;
}

/** An example as a comment holding its question, then its SQL as is. */
export function exampleLines(example: QuotedExample): string[] {
  return [`-- Q: ${comment(example.question)}`, example.sql];
}

/** A document as comment lines: its title, then each line of its text. */
export function documentLines(document: QuotedDocument): string[] {
  return [`-- Document: ${document.title}`, ...document.text.split('\n').map((l) => `-- ${l}`)];
}

/**
 * The text of a context: the tables, the joins, the examples and the documents, each table, example and
 * document followed by a blank line and the joins by one, with no blank line at the end.
 */
export function renderContext(parts: ContextParts): string {
  const lines: string[] = [];
  for (const t of parts.tables) lines.push(...tableLines(t.table, t.columns), '');
  for (const j of parts.joins) lines.push(joinLine(j));
  if (parts.joins.length > 0) lines.push('');
  for (const e of parts.examples) lines.push(...exampleLines(e), '');
  for (const d of parts.documents) lines.push(...documentLines(d), '');
  return lines.join('\n').trimEnd();
}
