import { CATALOG_LIMITS, describeUnsafeText, type CatalogInput } from '@catalog-indexer/catalog';
import { type SourceCatalog } from './source-catalog';

/** Sample values by `schema \0 table \0 column`. */
export type SampleValues = Map<string, string[]>;

export const columnId = (schema: string, table: string, column: string): string => `${schema}\u0000${table}\u0000${column}`;

/** A comment as a description: none when empty, cut to the format's limit, NUL characters removed. */
function description(comment: string | null, max: number = CATALOG_LIMITS.descriptionMaxChars): string | undefined {
  const text = comment?.replaceAll('\u0000', '').trim();
  if (!text) return undefined;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Sample values that fit the format: short, storable text only. */
function examples(values: string[] | undefined): string[] | undefined {
  const kept = (values ?? []).filter((v) => v.length <= CATALOG_LIMITS.columnExampleMaxChars && describeUnsafeText(v) === undefined);
  return kept.length > 0 ? kept.slice(0, CATALOG_LIMITS.columnExamplesMax) : undefined;
}

export interface BuiltCatalog {
  catalog: CatalogInput;
  /** What the source has but the catalog leaves out, and why. */
  notes: string[];
}

/**
 * Turns what a reader found into the upload format: one schema per source schema (empty ones too), tables
 * and views in name order, columns in their table's order with type, nullability, primary key, comment
 * and sample values. Foreign keys that point outside the imported schemas are left out and noted.
 */
export function buildCatalog(source: SourceCatalog, name: string, samples: SampleValues): BuiltCatalog {
  const notes: string[] = [];
  const tableId = (schema: string, table: string) => `${schema}\u0000${table}`;
  const pk = new Set(source.primaryKeys.map((k) => columnId(k.schema, k.table, k.column)));
  const imported = new Set(source.tables.map((t) => tableId(t.schema, t.name)));
  const columnsOf = new Map<string, SourceCatalog['columns']>();
  for (const c of source.columns) {
    const id = tableId(c.schema, c.table);
    columnsOf.set(id, [...(columnsOf.get(id) ?? []), c]);
  }
  const fksOf = new Map<string, SourceCatalog['foreignKeys']>();
  for (const fk of source.foreignKeys) {
    if (!imported.has(tableId(fk.refSchema, fk.refTable))) {
      notes.push(`foreign key ${fk.name} of ${fk.schema}.${fk.table} left out: it references ${fk.refSchema}.${fk.refTable}, which is not imported`);
      continue;
    }
    const id = tableId(fk.schema, fk.table);
    fksOf.set(id, [...(fksOf.get(id) ?? []), fk]);
  }
  const catalog: CatalogInput = {
    name: description(name, CATALOG_LIMITS.nameMaxChars) ?? 'imported',
    schemas: source.schemas.map((s) => ({
      name: s.name,
      ...(description(s.comment) ? { description: description(s.comment) } : {}),
      tables: source.tables
        .filter((t) => t.schema === s.name)
        .map((t) => {
          const id = tableId(t.schema, t.name);
          const fks = fksOf.get(id) ?? [];
          return {
            name: t.name,
            type: t.type,
            ...(description(t.comment) ? { description: description(t.comment) } : {}),
            columns: (columnsOf.get(id) ?? []).map((c) => {
              const sample = examples(samples.get(columnId(c.schema, c.table, c.name)));
              return {
                name: c.name,
                type: c.type,
                ...(description(c.comment) ? { description: description(c.comment) } : {}),
                nullable: c.nullable,
                ...(pk.has(columnId(c.schema, c.table, c.name)) ? { primaryKey: true } : {}),
                ...(sample ? { examples: sample } : {}),
              };
            }),
            ...(fks.length > 0
              ? { foreignKeys: fks.map((fk) => ({ columns: fk.columns, references: { schema: fk.refSchema, table: fk.refTable, columns: fk.refColumns } })) }
              : {}),
          };
        }),
    })),
  };
  return { catalog, notes };
}
