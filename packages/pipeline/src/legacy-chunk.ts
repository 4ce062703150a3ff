import { CATALOG_LIMITS, type CatalogInput } from '@catalog-indexer/catalog';

/** A legacy row's kind and metadata as the product reads them: its chunker's kinds and metadata keys. */
export interface AdoptedChunk {
  kind: 'table' | 'column' | 'relationship' | 'document' | 'example';
  metadata: Record<string, unknown>;
}

/** Kinds of pgvector-era tables, by the product kind they stand for (compared lower-case, `-` and spaces as `_`). */
const KIND_ALIASES: Record<AdoptedChunk['kind'], readonly string[]> = {
  table: ['table', 'tables', 'view', 'views', 'table_description', 'table_info', 'table_schema'],
  column: ['column', 'columns', 'column_description', 'column_info', 'field'],
  relationship: ['relationship', 'relationships', 'relation', 'foreign_key', 'fk', 'join'],
  document: ['document', 'documents', 'documentation', 'doc', 'docs', 'business_rule', 'glossary', 'note', 'notes', 'text'],
  example: ['example', 'examples', 'example_query', 'example_queries', 'query', 'queries', 'sql', 'sql_example', 'question', 'qa', 'few_shot'],
};
const KIND_OF = new Map(Object.entries(KIND_ALIASES).flatMap(([kind, aliases]) => aliases.map((a) => [a, kind as AdoptedChunk['kind']])));

/** The schema a legacy row's table belongs to when its metadata names a table but no schema. */
export const DEFAULT_SCHEMA = 'public';

/**
 * What a pgvector-era row becomes in the product: its kind mapped to one of the chunker's (`documentation`
 * → `document`, `example_query` → `example`, …; the original kept as `legacyKind`), and the metadata keys
 * the query service reads added beside the legacy ones: `schema`, `table`, `column` (from `schema_name`,
 * `table_name`, `column_name` too; a table without a schema is in `public`), a column's `type` and
 * `description`, a document's `title` and `text`, an example's `question` and `sql` (from the metadata, or
 * read off a content of the shape `Question: …\nSQL: …`). A kind it does not know is inferred from what
 * the row names. Legacy keys are kept; nothing is removed.
 */
export function adoptedChunk(row: { kind: string | null; content: string; metadata: unknown }): AdoptedChunk {
  const legacy = isRecord(row.metadata) ? row.metadata : {};
  const metadata: Record<string, unknown> = { ...legacy };
  const table = text(legacy.table) ?? text(legacy.table_name);
  const schema = text(legacy.schema) ?? text(legacy.schema_name) ?? text(legacy.table_schema) ?? (table ? DEFAULT_SCHEMA : undefined);
  const column = text(legacy.column) ?? text(legacy.column_name);
  if (schema) metadata.schema = schema;
  if (table) metadata.table = table;
  if (column && table) metadata.column = column;
  const type = text(legacy.type) ?? text(legacy.data_type) ?? text(legacy.column_type);
  if (type) metadata.type = type;
  const legacyKind = row.kind?.trim() ? row.kind : undefined;
  if (legacyKind) metadata.legacyKind = legacyKind;
  const example = exampleOf(legacy, row.content);
  const kind = KIND_OF.get((legacyKind ?? '').toLowerCase().replace(/[\s-]+/g, '_')) ?? inferKind(example, column && table, table);
  if (kind === 'example' && example) Object.assign(metadata, example);
  if (kind === 'document') Object.assign(metadata, documentOf(legacy, row.content));
  if ((kind === 'column' && !(column && table)) || (kind === 'table' && !table)) return { kind: 'document', metadata: { ...metadata, ...documentOf(legacy, row.content) } };
  return { kind, metadata };
}

function inferKind(example: unknown, column: unknown, table: unknown): AdoptedChunk['kind'] {
  if (example) return 'example';
  if (column) return 'column';
  if (table) return 'table';
  return 'document';
}

/** An example's question and SQL, from the metadata or from content written `Question: …\nSQL: …`. */
function exampleOf(legacy: Record<string, unknown>, content: string): { question: string; sql: string } | undefined {
  const sql = text(legacy.sql) ?? text(legacy.query) ?? text(legacy.sql_query);
  const question = text(legacy.question) ?? text(legacy.nl) ?? text(legacy.natural_language) ?? text(legacy.prompt);
  if (question && sql) return { question, sql };
  const m = /^\s*(?:question|q)\s*:\s*([\s\S]+?)\s*\n\s*(?:sql|sql query|query|a|answer)\s*:\s*([\s\S]+?)\s*$/i.exec(content);
  if (m?.[1] && m[2]) return { question: question ?? m[1], sql: sql ?? m[2] };
  // The question is the content when only the SQL sits in the metadata.
  if (sql && !content.includes(sql) && content.trim()) return { question: content.trim(), sql };
  return undefined;
}

/** A document's title and text: from the metadata, or the content (a first line `Document: title` is its title). */
function documentOf(legacy: Record<string, unknown>, content: string): { title: string; text: string } {
  const heading = /^Document: ([^\n]+)\n([\s\S]*)$/.exec(content);
  const title = text(legacy.title) ?? text(legacy.name) ?? text(legacy.heading) ?? text(legacy.doc_title) ?? heading?.[1] ?? firstLine(content);
  const body = text(legacy.text) ?? (heading?.[2]?.trim() ? heading[2] : content);
  return { title: oneLine(title, CATALOG_LIMITS.documentTitleMaxChars), text: body };
}

function firstLine(content: string): string {
  const line = content.trim().split('\n')[0]?.trim() ?? '';
  return line.length > 0 ? line : 'Document';
}

function oneLine(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat || 'Document';
}

/** The names an adopted row gives its catalog: a table, and a column of it, with what is known of them. */
export interface NamedItem {
  kind: string;
  schema: string;
  table: string;
  column: string | null;
  type: string | null;
  description: string | null;
}

/**
 * The document of an adopted catalog: the schemas, tables and columns its adopted rows name (so the query
 * service's context can show them), within the upload format's limits. A column of unknown type is
 * `unknown`; names the format refuses are left out. Documents and examples are quoted from the rows.
 */
export function adoptedDocument(name: string, description: string, items: readonly NamedItem[]): CatalogInput {
  type Described = { description?: string; columns: Map<string, { type: string; description?: string }> };
  const schemas = new Map<string, Map<string, Described>>();
  let tables = 0;
  let columns = 0;
  for (const item of items) {
    if (!isName(item.schema) || !isName(item.table)) continue;
    let schema = schemas.get(item.schema);
    if (!schema) schemas.set(item.schema, (schema = new Map<string, Described>()));
    let table = schema.get(item.table);
    if (!table) {
      if (tables >= CATALOG_LIMITS.tablesMax) continue;
      tables++;
      schema.set(item.table, (table = { columns: new Map() }));
    }
    const about = item.description ? item.description.slice(0, CATALOG_LIMITS.descriptionMaxChars) : undefined;
    if (item.column === null) {
      if (item.kind === 'table' && about && !table.description) table.description = about;
      continue;
    }
    if (!isName(item.column)) continue;
    const known = table.columns.get(item.column);
    const type = item.type?.trim() && item.type.trim().length <= CATALOG_LIMITS.typeMaxChars ? item.type.trim() : undefined;
    if (known) {
      if (type && known.type === 'unknown') known.type = type;
      if (about && !known.description) known.description = about;
      continue;
    }
    if (table.columns.size >= CATALOG_LIMITS.columnsPerTableMax || columns >= CATALOG_LIMITS.columnsMax) continue;
    columns++;
    table.columns.set(item.column, { type: type ?? 'unknown', ...(about ? { description: about } : {}) });
  }
  return {
    name,
    description,
    schemas: [...schemas].map(([schema, t]) => ({
      name: schema,
      tables: [...t].map(([table, v]) => ({
        name: table,
        type: 'table' as const,
        ...(v.description ? { description: v.description } : {}),
        columns: [...v.columns].map(([column, c]) => ({ name: column, ...c })),
      })),
    })),
  };
}

function isName(value: string): boolean {
  return value.length > 0 && value.length <= CATALOG_LIMITS.nameMaxChars && !value.includes('\u0000');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
