import { sha256Hex } from './hash';

/**
 * Stable keys of catalog items. Users reject and restore items by key, and the chunker derives chunk keys
 * from them, so a key depends only on names, never on positions or ids.
 * - dotted keys name schemas, tables and columns: `sales`, `sales.orders`, `sales.orders.customer_id`;
 * - prefixed keys name the rest: `fk:…`, `doc:…`, `example:…`.
 *
 * Names may hold any character their database allows. A name is written as is unless it contains `.`,
 * `:`, `(`, `)`, `,` or a control character, starts with `"`, or starts or ends with white space; then it
 * is quoted as SQL quotes identifiers: `"Official_ratings_(millions)"`, `"a.b"`, `"say ""hi"""`. Names
 * that were valid before quoting existed (none of those characters) keep their keys unchanged.
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
const PREFIXED_KEY = /^(?:fk|doc|example):/;
// eslint-disable-next-line no-control-regex
const NEEDS_QUOTES = /[.:(),\u0000-\u001f\u007f]|^"|^\s|\s$/;

/** A name as it appears in a key: as is, or between double quotes with inner quotes doubled. */
export function quoteName(name: string): string {
  return NEEDS_QUOTES.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

/** Key of a schema: its name, e.g. `sales`. */
export function schemaKey(schema: string): string {
  return quoteName(schema);
}

/** Key of a table or view, e.g. `sales.orders`. */
export function tableKey(schema: string, table: string): string {
  return `${quoteName(schema)}.${quoteName(table)}`;
}

/** Key of a column, e.g. `sales.orders.customer_id`. */
export function columnKey(schema: string, table: string, column: string): string {
  return columnKeyIn(tableKey(schema, table), column);
}

/** Key of a column of the table whose key is `tableKey` (see {@link tableKey}). */
export function columnKeyIn(tableKey: string, column: string): string {
  return `${tableKey}.${quoteName(column)}`;
}

/** Key of a foreign key, e.g. `fk:sales.orders(customer_id)->sales.customers(id)`. */
export function relationshipKey(from: ColumnSet, to: ColumnSet): string {
  const end = (c: ColumnSet) => `${tableKey(c.schema, c.table)}(${c.columns.map(quoteName).join(',')})`;
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
  const digest = sha256Hex(`${question}\n${sql}`);
  return `${EXAMPLE_PREFIX}${digest.slice(0, 16)}`;
}

/** Reads names written by `quoteName` from `text`, starting at `pos`; stops at a delimiter it does not own. */
class KeyReader {
  pos = 0;
  constructor(private readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  /** Consumes `token` if it comes next. */
  take(token: string): boolean {
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  /** One name, quoted or bare; `null` when none can be read here. */
  name(): string | null {
    if (this.text[this.pos] === '"') {
      let out = '';
      for (let i = this.pos + 1; i < this.text.length; i++) {
        const ch = this.text[i];
        if (ch !== '"') {
          out += ch;
          continue;
        }
        if (this.text[i + 1] === '"') {
          out += '"';
          i++;
          continue;
        }
        this.pos = i + 1;
        return out;
      }
      return null;
    }
    const start = this.pos;
    while (this.pos < this.text.length && !'.:(),'.includes(this.text[this.pos] ?? '')) {
      this.pos++;
    }
    return this.pos > start ? this.text.slice(start, this.pos) : null;
  }

  /** Names separated by `separator`, at least one. */
  names(separator: string): string[] | null {
    const out: string[] = [];
    do {
      const n = this.name();
      if (n === null) return null;
      out.push(n);
    } while (this.take(separator));
    return out;
  }
}

/** The names of a dotted key (`sales."a.b".id` → `sales`, `a.b`, `id`), or `null` if it is not one. */
export function splitDottedKey(key: string): string[] | null {
  if (PREFIXED_KEY.test(key)) return null;
  const reader = new KeyReader(key);
  const names = reader.names('.');
  return names && reader.done && names.length <= 3 ? names : null;
}

/** The two ends of a relationship key, or `null` if `key` is not one. */
export function parseRelationshipKey(key: string): { from: ColumnSet; to: ColumnSet } | null {
  if (!key.startsWith(RELATIONSHIP_PREFIX)) return null;
  const reader = new KeyReader(key);
  reader.take(RELATIONSHIP_PREFIX);
  const end = (): ColumnSet | null => {
    const schema = reader.name();
    if (schema === null || !reader.take('.')) return null;
    const table = reader.name();
    if (table === null || !reader.take('(')) return null;
    const columns = reader.names(',');
    if (columns === null || !reader.take(')')) return null;
    return { schema, table, columns };
  };
  const from = end();
  if (!from || !reader.take('->')) return null;
  const to = end();
  return to && reader.done ? { from, to } : null;
}

/** `true` for keys of schemas, tables and columns. */
function isDottedKey(key: string): boolean {
  return !PREFIXED_KEY.test(key);
}

/** The key itself and every dotted ancestor: `sales.orders.id` → `sales`, `sales.orders`, `sales.orders.id`. */
function dottedLineage(key: string): string[] {
  const parts = splitDottedKey(key);
  if (!parts) return [key];
  return parts.map((_, i) => parts.slice(0, i + 1).map(quoteName).join('.'));
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
