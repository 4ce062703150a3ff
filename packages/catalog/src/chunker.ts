import {
  type Catalog,
  type CatalogColumn,
  type CatalogForeignKey,
  type CatalogSchema,
  type CatalogTable,
} from './catalog.schema';
import { type ColumnSet, columnKey, columnKeyIn, documentKey, exampleKey, isKeyRejected, relationshipKey, tableKey } from './keys';
import { splitText } from './text-splitter';

/** The kinds of chunks; schemas have none of their own, their description rides along in table chunks. */
export type ChunkKind = 'table' | 'column' | 'relationship' | 'document' | 'example';

/** What a search filter or a reader of a hit needs besides the text. Only fields that apply are set. */
export interface ChunkMetadata {
  schema?: string;
  table?: string;
  column?: string;
  /** A column's SQL type. */
  type?: string;
  /** `'table'` or `'view'`, on table and column chunks. */
  tableType?: 'table' | 'view';
  /** On relationship chunks: the referenced side (`schema`/`table` are the referencing side). */
  referencedSchema?: string;
  referencedTable?: string;
  columns?: string[];
  referencedColumns?: string[];
  /** On document chunks. */
  title?: string;
  /** On document chunks: which part (from 0) of how many. */
  part?: number;
  parts?: number;
  /**
   * On document chunks: the part's text as the document has it, without the heading the content starts
   * with; a reader quotes this, never the content cut apart.
   */
  text?: string;
  /** On example chunks: the example's question and SQL, as the catalog has them. */
  question?: string;
  sql?: string;
}

/** One piece of text to embed, derived from one catalog item. */
export interface Chunk {
  /**
   * Stable across reindexes of the same catalog: `table:sales.orders`, `column:sales.orders.id`,
   * `relationship:sales.orders(customer_id)->sales.customers(id)`, `document:Revenue#0`, `example:<hash>`.
   */
  key: string;
  kind: ChunkKind;
  /** Key of the catalog item the chunk comes from (see `keys.ts`). */
  itemKey: string;
  /** Text for both the embedding model and the SQL generator. */
  content: string;
  metadata: ChunkMetadata;
}

/** Defaults of `ChunkOptions`. */
export const CHUNK_LIMITS = {
  /**
   * Characters of document text per part: about 1,000 tokens of English, well inside any embedding
   * model's input limit (the embedding layer still enforces token limits).
   */
  documentPartChars: 4_000,
  /** Columns named in a table chunk; wider tables end the list with "… and N more columns". */
  tableColumns: 100,
  /** Characters of a description quoted as context in another item's chunk (a schema's in a table chunk). */
  contextDescriptionChars: 300,
  /** Referencing columns named in one "Referenced by" line. */
  referencedBy: 20,
} as const;

export interface ChunkOptions {
  /** Keys of rejected items: they, everything under them and the relationships touching them give no chunks. */
  rejectedKeys?: ReadonlySet<string>;
  documentPartChars?: number;
  tableColumns?: number;
}

/** A foreign key together with the table that owns it. */
interface Relationship {
  key: string;
  from: ColumnSet;
  to: ColumnSet;
  fromTable: CatalogTable;
}

/** Ends a description with a full stop, so that sentences run on cleanly. */
function sentence(text: string): string {
  const t = text.trim();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

/** A description shortened to `max` characters, at a word boundary when there is one. */
function brief(text: string, max: number): string {
  const t = text.trim().replace(/\s+/g, ' ');
  if (t.length <= max) return sentence(t);
  const cut = t.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, '')}…`;
}

/** `sales.customers.id`, or `sales.order_items(order_id, line_no)` for several columns. */
function columnsLabel(set: ColumnSet): string {
  const table = tableKey(set.schema, set.table);
  const [only, ...rest] = set.columns;
  return only !== undefined && rest.length === 0 ? `${table}.${only}` : `${table}(${set.columns.join(', ')})`;
}

/** `order_items` → `order item`, `categories` → `category`: crude, only for readable phrases. */
function singular(tableName: string): string {
  const words = tableName.replace(/_/g, ' ');
  if (/ies$/.test(words)) return words.replace(/ies$/, 'y');
  if (/(ss|us|is)$/.test(words)) return words;
  return words.replace(/s$/, '');
}

function plural(tableName: string): string {
  return tableName.replace(/_/g, ' ');
}

function primaryKey(table: CatalogTable): string[] {
  return table.columns.filter((c) => c.primaryKey === true).map((c) => c.name);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** How the rows of the two tables pair up, from what the catalog knows (primary keys; no unique indexes). */
function cardinality(rel: Relationship): string {
  const pk = primaryKey(rel.fromTable);
  if (pk.length > 0 && sameSet(pk, rel.from.columns)) {
    return `one ${singular(rel.from.table)} to one ${singular(rel.to.table)}`;
  }
  return `many ${plural(rel.from.table)} to one ${singular(rel.to.table)}`;
}

function columnAttributes(column: CatalogColumn): string {
  const parts = [column.type];
  if (column.primaryKey === true) parts.push('primary key');
  else if (column.nullable === false) parts.push('not null');
  else if (column.nullable === true) parts.push('nullable');
  return parts.join(', ');
}

/** Everything the chunker needs to look up across the catalog, with rejected items already left out. */
class ChunkContext {
  /** Visible foreign keys by the key of their owning table. */
  readonly outgoing = new Map<string, Relationship[]>();
  /** Visible foreign keys by the key of the table they reference. */
  readonly incoming = new Map<string, Relationship[]>();

  constructor(
    catalog: Catalog,
    readonly rejected: ReadonlySet<string>,
  ) {
    for (const schema of catalog.schemas) {
      for (const table of schema.tables) {
        for (const fk of table.foreignKeys ?? []) this.addRelationship(schema, table, fk);
      }
    }
  }

  isHidden(key: string): boolean {
    return isKeyRejected(key, this.rejected);
  }

  private addRelationship(schema: CatalogSchema, table: CatalogTable, fk: CatalogForeignKey): void {
    const from = { schema: schema.name, table: table.name, columns: fk.columns };
    const key = relationshipKey(from, fk.references);
    if (this.isHidden(key)) return;
    const rel: Relationship = { key, from, to: fk.references, fromTable: table };
    const push = (map: Map<string, Relationship[]>, k: string) => map.set(k, [...(map.get(k) ?? []), rel]);
    push(this.outgoing, tableKey(schema.name, table.name));
    push(this.incoming, tableKey(fk.references.schema, fk.references.table));
  }
}

function referencedByLine(rels: readonly Relationship[]): string | null {
  if (rels.length === 0) return null;
  const labels = rels.slice(0, CHUNK_LIMITS.referencedBy).map((r) => columnsLabel(r.from));
  const more = rels.length - labels.length;
  return `Referenced by: ${labels.join(', ')}${more > 0 ? `, … and ${more} more` : ''}.`;
}

function tableChunk(ctx: ChunkContext, schema: CatalogSchema, table: CatalogTable, maxColumns: number): Chunk {
  const key = tableKey(schema.name, table.name);
  const outgoing = ctx.outgoing.get(key) ?? [];
  const singleColumnTargets = new Map<string, string>();
  for (const rel of outgoing) {
    const [only, ...rest] = rel.from.columns;
    const [target] = rel.to.columns;
    if (only !== undefined && target !== undefined && rest.length === 0) {
      singleColumnTargets.set(only, columnKey(rel.to.schema, rel.to.table, target));
    }
  }
  const visible = table.columns.filter((c) => !ctx.isHidden(columnKey(schema.name, table.name, c.name)));
  const listed = visible.slice(0, maxColumns).map((c) => {
    const target = singleColumnTargets.get(c.name);
    const pk = c.primaryKey === true ? ' primary key' : '';
    return `${c.name} ${c.type}${pk}${target === undefined ? '' : ` → ${target}`}`;
  });
  const hiddenCount = visible.length - listed.length;
  const more = hiddenCount > 0 ? `, … and ${hiddenCount} more columns` : '';

  const lines = [`Table ${key} (${table.type})${table.description ? `: ${sentence(table.description)}` : '.'}`];
  if (schema.description) {
    lines.push(`Schema ${schema.name}: ${brief(schema.description, CHUNK_LIMITS.contextDescriptionChars)}`);
  }
  lines.push(listed.length > 0 ? `Columns: ${listed.join(', ')}${more}.` : 'Columns: none listed.');
  const composite = outgoing.filter((r) => r.from.columns.length > 1);
  if (composite.length > 0) {
    lines.push(`Foreign keys: ${composite.map((r) => `${columnsLabel(r.from)} → ${columnsLabel(r.to)}`).join(', ')}.`);
  }
  const referencedBy = referencedByLine(ctx.incoming.get(key) ?? []);
  if (referencedBy) lines.push(referencedBy);

  return {
    key: `table:${key}`,
    kind: 'table',
    itemKey: key,
    content: lines.join('\n'),
    metadata: { schema: schema.name, table: table.name, tableType: table.type },
  };
}

/** What every column chunk of one table repeats, made once per table. */
interface TableContext {
  schema: CatalogSchema;
  table: CatalogTable;
  /** The table's key, `sales.orders`. */
  key: string;
  /** The sentence that names the table, with its description shortened, in each of its column chunks. */
  line: string;
  outgoing: readonly Relationship[];
  /** Visible foreign keys that reference the table, by referenced column, in the order of `incoming`. */
  incomingByColumn: Map<string, Relationship[]>;
}

function tableContext(ctx: ChunkContext, schema: CatalogSchema, table: CatalogTable, key: string): TableContext {
  const label = `${table.type === 'view' ? 'View' : 'Table'} ${key}`;
  const line = table.description ? `${label}: ${brief(table.description, CHUNK_LIMITS.contextDescriptionChars)}` : `${label}.`;
  const incomingByColumn = new Map<string, Relationship[]>();
  for (const rel of ctx.incoming.get(key) ?? []) {
    // A foreign key that names a column twice is listed once under it, as a filter over the list would.
    for (const column of new Set(rel.to.columns)) {
      const list = incomingByColumn.get(column);
      if (list) list.push(rel);
      else incomingByColumn.set(column, [rel]);
    }
  }
  return { schema, table, key, line, outgoing: ctx.outgoing.get(key) ?? [], incomingByColumn };
}

function columnChunk(t: TableContext, column: CatalogColumn, key: string): Chunk {
  const { schema, table } = t;
  const head = `Column ${key} (${columnAttributes(column)})`;
  const parts = [column.description ? `${head}: ${sentence(column.description)}` : `${head}.`, t.line];
  if (column.examples && column.examples.length > 0) parts.push(`Examples: ${column.examples.join(', ')}.`);
  for (const rel of t.outgoing) {
    if (!rel.from.columns.includes(column.name)) continue;
    parts.push(
      rel.from.columns.length === 1
        ? `References ${columnsLabel(rel.to)}.`
        : `Part of the foreign key ${columnsLabel(rel.from)} → ${columnsLabel(rel.to)}.`,
    );
  }
  const referencedBy = referencedByLine(t.incomingByColumn.get(column.name) ?? []);
  if (referencedBy) parts.push(referencedBy);

  return {
    key: `column:${key}`,
    kind: 'column',
    itemKey: key,
    content: parts.join(' '),
    metadata: { schema: schema.name, table: table.name, column: column.name, type: column.type, tableType: table.type },
  };
}

function relationshipChunk(rel: Relationship): Chunk {
  const joins = rel.from.columns.map((c, i) => {
    const target = rel.to.columns[i] ?? '';
    return `${columnKey(rel.from.schema, rel.from.table, c)} = ${columnKey(rel.to.schema, rel.to.table, target)}`;
  });
  const content =
    `${columnsLabel(rel.from)} references ${columnsLabel(rel.to)} (${cardinality(rel)}). ` +
    `Join on ${joins.join(' AND ')}.`;
  return {
    key: `relationship:${rel.key.slice('fk:'.length)}`,
    kind: 'relationship',
    itemKey: rel.key,
    content,
    metadata: {
      schema: rel.from.schema,
      table: rel.from.table,
      columns: [...rel.from.columns],
      referencedSchema: rel.to.schema,
      referencedTable: rel.to.table,
      referencedColumns: [...rel.to.columns],
    },
  };
}

/**
 * Turns a catalog into the chunks to embed: per table, its table chunk, then a chunk per column and per
 * foreign key; then the parts of each document; then the examples. The order is deterministic and chunk
 * keys are unique and stable across reindexes, so unchanged chunks can be recognised and skipped.
 *
 * Rejected items give no chunks, nor does anything under them (a rejected schema hides its tables and
 * columns) or any relationship touching them; rejected columns and relationships are also left out of the
 * text of the remaining chunks. Expects a catalog from `parseCatalog` (unique names, valid references).
 */
export function chunkCatalog(catalog: Catalog, options: ChunkOptions = {}): Chunk[] {
  const ctx = new ChunkContext(catalog, options.rejectedKeys ?? new Set());
  const maxColumns = options.tableColumns ?? CHUNK_LIMITS.tableColumns;
  const partChars = options.documentPartChars ?? CHUNK_LIMITS.documentPartChars;
  const chunks: Chunk[] = [];

  for (const schema of catalog.schemas) {
    for (const table of schema.tables) {
      const tKey = tableKey(schema.name, table.name);
      if (ctx.isHidden(tKey)) continue;
      chunks.push(tableChunk(ctx, schema, table, maxColumns));
      const t = tableContext(ctx, schema, table, tKey);
      for (const column of table.columns) {
        const key = columnKeyIn(tKey, column.name);
        if (!ctx.isHidden(key)) chunks.push(columnChunk(t, column, key));
      }
      for (const rel of t.outgoing) chunks.push(relationshipChunk(rel));
    }
  }

  for (const doc of catalog.documents ?? []) {
    const itemKey = documentKey(doc.title);
    if (ctx.isHidden(itemKey)) continue;
    const parts = splitText(doc.text, partChars);
    parts.forEach((text, part) => {
      const label = parts.length > 1 ? ` (part ${part + 1} of ${parts.length})` : '';
      chunks.push({
        key: `document:${doc.title}#${part}`,
        kind: 'document',
        itemKey,
        content: `Document: ${doc.title}${label}\n${text}`,
        metadata: { title: doc.title, part, parts: parts.length, text },
      });
    });
  }

  for (const example of catalog.examples ?? []) {
    const key = exampleKey(example.question, example.sql);
    if (ctx.isHidden(key)) continue;
    chunks.push({
      key,
      kind: 'example',
      itemKey: key,
      content: `Question: ${example.question}\nSQL: ${example.sql}`,
      metadata: { question: example.question, sql: example.sql },
    });
  }
  return chunks;
}

/**
 * The example an example chunk carries, read from its metadata (see {@link chunkCatalog}); `undefined` when
 * the metadata does not hold one (a row of another kind, or one written by another writer).
 */
export function chunkExample(metadata: ChunkMetadata | Readonly<Record<string, unknown>>): { question: string; sql: string } | undefined {
  const { question, sql } = metadata;
  return typeof question === 'string' && typeof sql === 'string' ? { question, sql } : undefined;
}

/**
 * The document part a document chunk carries, read from its metadata (see {@link chunkCatalog}): the
 * document's title and the part's text; `undefined` when the metadata does not hold them.
 */
export function chunkDocument(metadata: ChunkMetadata | Readonly<Record<string, unknown>>): { title: string; text: string } | undefined {
  const { title, text } = metadata;
  return typeof title === 'string' && typeof text === 'string' ? { title, text } : undefined;
}
