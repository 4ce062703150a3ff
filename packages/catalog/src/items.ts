import { type Catalog, type CatalogForeignKey } from './catalog.schema';
import { columnKey, documentKey, exampleKey, relationshipKey, schemaKey, tableKey } from './keys';

/** The kinds of catalog items. */
export type CatalogItemKind = 'schema' | 'table' | 'column' | 'relationship' | 'document' | 'example';

/** One item of a catalog, as stored: a row per schema, table, column, foreign key, document and example. */
export interface CatalogItem {
  /** Stable key (see `keys.ts`), unique within the catalog. */
  key: string;
  kind: CatalogItemKind;
  /** Key of the schema of a table, of the table of a column or foreign key; `null` at the top. */
  parentKey: string | null;
  /** Human-readable name: the item's name, a document's title, an example's question, or a foreign key summary. */
  name: string;
  /** Order within the parent (schemas, documents and examples: within the catalog), from 0. */
  position: number;
  /** The item's own fields as uploaded, without its children; absent optional fields are left out. */
  data: Record<string, unknown>;
}

/** Copies `value` without its `undefined` fields and without `omit`, so stored JSON has no holes. */
function ownFields(value: object, omit: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Copied so that stored items never alias (or inherit the freezing of) the catalog they came from.
    if (v !== undefined && !omit.includes(k)) out[k] = structuredClone(v);
  }
  return out;
}

/** `customer_id -> sales.customers(id)`: what a foreign key does, readable in a list. */
function foreignKeyName(fk: CatalogForeignKey): string {
  const { references: to } = fk;
  return `(${fk.columns.join(', ')}) -> ${to.schema}.${to.table}(${to.columns.join(', ')})`;
}

/**
 * Flattens a catalog into one item per schema, table, column, foreign key, document and example, for
 * storage. The order is deterministic and follows the upload: each schema, then each of its tables followed
 * by the table's columns and foreign keys; then documents; then examples. Expects a catalog from
 * `parseCatalog` (unique names, so unique keys).
 */
export function flattenItems(catalog: Catalog): CatalogItem[] {
  const items: CatalogItem[] = [];
  catalog.schemas.forEach((schema, schemaPosition) => {
    const sKey = schemaKey(schema.name);
    items.push({
      key: sKey,
      kind: 'schema',
      parentKey: null,
      name: schema.name,
      position: schemaPosition,
      data: ownFields(schema, ['tables']),
    });
    schema.tables.forEach((table, tablePosition) => {
      const tKey = tableKey(schema.name, table.name);
      items.push({
        key: tKey,
        kind: 'table',
        parentKey: sKey,
        name: table.name,
        position: tablePosition,
        data: ownFields(table, ['columns', 'foreignKeys']),
      });
      table.columns.forEach((column, columnPosition) => {
        items.push({
          key: columnKey(schema.name, table.name, column.name),
          kind: 'column',
          parentKey: tKey,
          name: column.name,
          position: columnPosition,
          data: ownFields(column),
        });
      });
      (table.foreignKeys ?? []).forEach((fk, fkPosition) => {
        items.push({
          key: relationshipKey({ schema: schema.name, table: table.name, columns: fk.columns }, fk.references),
          kind: 'relationship',
          parentKey: tKey,
          name: foreignKeyName(fk),
          position: fkPosition,
          data: ownFields(fk),
        });
      });
    });
  });
  (catalog.documents ?? []).forEach((doc, position) => {
    items.push({
      key: documentKey(doc.title),
      kind: 'document',
      parentKey: null,
      name: doc.title,
      position,
      data: ownFields(doc),
    });
  });
  (catalog.examples ?? []).forEach((example, position) => {
    items.push({
      key: exampleKey(example.question, example.sql),
      kind: 'example',
      parentKey: null,
      name: example.question,
      position,
      data: ownFields(example),
    });
  });
  return items;
}
