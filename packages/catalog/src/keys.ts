import { createHash } from 'node:crypto';

/**
 * Stable keys of catalog items. Users reject and restore items by key, and the chunker derives chunk keys
 * from them, so a key depends only on names, never on positions or ids. Names cannot contain `.`, `:`,
 * `(`, `)` or `,` (see `catalog.schema.ts`), which keeps every key unambiguous:
 * - dotted keys name schemas, tables and columns: `sales`, `sales.orders`, `sales.orders.customer_id`;
 * - prefixed keys name the rest: `fk:…`, `doc:…`, `example:…`.
 */

/** The columns of one table, as used by either end of a foreign key. */
export interface ColumnSet {
  schema: string;
  table: string;
  columns: readonly string[];
}

const RELATIONSHIP_PREFIX = 'fk:';
const DOCUMENT_PREFIX = 'doc:';
const EXAMPLE_PREFIX = 'example:';
const RELATIONSHIP_KEY = /^fk:([^.:(),]+)\.([^.:(),]+)\(([^():]*)\)->([^.:(),]+)\.([^.:(),]+)\(([^():]*)\)$/;

/** Key of a schema: its name, e.g. `sales`. */
export function schemaKey(schema: string): string {
  return schema;
}

/** Key of a table or view, e.g. `sales.orders`. */
export function tableKey(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/** Key of a column, e.g. `sales.orders.customer_id`. */
export function columnKey(schema: string, table: string, column: string): string {
  return `${schema}.${table}.${column}`;
}

/** Key of a foreign key, e.g. `fk:sales.orders(customer_id)->sales.customers(id)`. */
export function relationshipKey(from: ColumnSet, to: ColumnSet): string {
  const end = (c: ColumnSet) => `${tableKey(c.schema, c.table)}(${c.columns.join(',')})`;
  return `${RELATIONSHIP_PREFIX}${end(from)}->${end(to)}`;
}

/** Key of a document, e.g. `doc:Revenue`. Titles are unique within a catalog. */
export function documentKey(title: string): string {
  return `${DOCUMENT_PREFIX}${title}`;
}

/**
 * Key of an example question/SQL pair: `example:` and the first 16 hex characters of the SHA-256 of
 * `question + "\n" + sql`. Hashing keeps keys short while editing either text makes a new item.
 */
export function exampleKey(question: string, sql: string): string {
  const digest = createHash('sha256').update(`${question}\n${sql}`, 'utf8').digest('hex');
  return `${EXAMPLE_PREFIX}${digest.slice(0, 16)}`;
}

/** The two ends of a relationship key, or `null` if `key` is not one. */
export function parseRelationshipKey(key: string): { from: ColumnSet; to: ColumnSet } | null {
  const m = RELATIONSHIP_KEY.exec(key);
  if (!m) return null;
  const [, fs, ft, fc, ts, tt, tc] = m as unknown as [string, string, string, string, string, string, string];
  return {
    from: { schema: fs, table: ft, columns: fc.split(',') },
    to: { schema: ts, table: tt, columns: tc.split(',') },
  };
}

/** `true` for keys of schemas, tables and columns. */
function isDottedKey(key: string): boolean {
  return !key.includes(':');
}

/** The key itself and every dotted ancestor: `sales.orders.id` → `sales`, `sales.orders`, `sales.orders.id`. */
function dottedLineage(key: string): string[] {
  const parts = key.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}

/** Every dotted key a relationship depends on: both tables, their schemas and the columns at both ends. */
function relationshipLineage(key: string): string[] | null {
  const ends = parseRelationshipKey(key);
  if (!ends) return null;
  const out = new Set<string>([key]);
  for (const end of [ends.from, ends.to]) {
    out.add(schemaKey(end.schema));
    out.add(tableKey(end.schema, end.table));
    for (const c of end.columns) out.add(columnKey(end.schema, end.table, c));
  }
  return [...out];
}

/** The keys whose rejection hides `key`: itself, its ancestors and, for a relationship, everything it touches. */
function hidingKeys(key: string): string[] {
  if (isDottedKey(key)) return dottedLineage(key);
  return relationshipLineage(key) ?? [key];
}

/**
 * Whether `key` is `ancestorKey` itself or is hidden along with it: a table or column under a rejected
 * schema or table, or a relationship whose either end touches it (rejecting `sales` hides `sales.orders`,
 * its columns and every foreign key from or to a `sales` table; rejecting a column hides the foreign keys
 * that use it).
 */
export function isKeyUnder(key: string, ancestorKey: string): boolean {
  return hidingKeys(key).includes(ancestorKey);
}

/**
 * Whether `key` is rejected, directly or through a rejected ancestor or a rejected item it touches
 * (see `isKeyUnder`). Costs a few set lookups, whatever the number of rejected keys.
 */
export function isKeyRejected(key: string, rejectedKeys: ReadonlySet<string>): boolean {
  if (rejectedKeys.size === 0) return false;
  return hidingKeys(key).some((k) => rejectedKeys.has(k));
}
