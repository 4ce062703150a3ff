import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  parseCatalogWithNotices,
  type Catalog,
  type CatalogColumn,
  type CatalogForeignKey,
  type CatalogInput,
  type CatalogSchema,
  type CatalogTable,
} from '@catalog-indexer/catalog';

/** One database of Spider's `tables.json`. Column 0 is Spider's `*` pseudo-column (table index -1). */
export interface SpiderDatabase {
  db_id: string;
  table_names_original: string[];
  table_names: string[];
  column_names_original: [number, string][];
  column_names: [number, string][];
  column_types: string[];
  /** Column indexes; a composite key may appear as a nested list. */
  primary_keys: (number | number[])[];
  /** `[referencing column index, referenced column index]` pairs. */
  foreign_keys: [number, number][];
}

/** One question of Spider's `dev.json` (other fields ignored). */
export interface SpiderQuestion {
  db_id: string;
  question: string;
  query: string;
}

export interface SpiderData {
  databases: SpiderDatabase[];
  questions: SpiderQuestion[];
  directory: string;
}

/** What the conversion found. */
export interface ConversionReport {
  databases: number;
  tables: number;
  columns: number;
  foreignKeys: number;
  /** Foreign keys a database declares twice, merged by the catalog parser. */
  mergedForeignKeys: number;
  /** Spider foreign-key pairs that name no real column. */
  droppedForeignKeys: number;
}

export interface SpiderCatalog {
  catalog: Catalog;
  /** Spider `db_id` → schema name in the catalog. */
  schemaOf: Map<string, string>;
  report: ConversionReport;
}

/** The folder holding `pnpm-workspace.yaml`, walking up from `start`. */
export function findRepositoryRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
}

/** Reads Spider's `tables.json` and `dev.json` from `shared/datasets/spider/` beside the repository root. */
export function loadSpider(repositoryRoot: string): SpiderData {
  const directory = resolve(repositoryRoot, '..', 'shared', 'datasets', 'spider');
  const read = <T>(file: string): T => {
    const path = join(directory, file);
    if (!existsSync(path)) throw new Error(`Spider file not found: ${path} (expected beside the repository root)`);
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  };
  return { databases: read<SpiderDatabase[]>('tables.json'), questions: read<SpiderQuestion[]>('dev.json'), directory };
}

function spiderType(type: string | undefined): string {
  return type && type.trim() !== '' ? type.trim() : 'text';
}

/**
 * Converts one Spider database into a catalog schema, names exactly as Spider spells them and every
 * foreign key Spider lists (the catalog merges exact repeats); only pairs that name no real column are
 * dropped and counted.
 */
function toSchema(db: SpiderDatabase): { schema: CatalogSchema; droppedForeignKeys: number } {
  const tables: CatalogTable[] = db.table_names_original.map((raw, t) => ({
    name: raw,
    type: 'table' as const,
    description: db.table_names[t] ?? undefined,
    columns: [],
    foreignKeys: [],
  }));
  const primary = new Set(db.primary_keys.flat());
  // Spider column index → [table index, column name].
  const columnAt = new Map<number, { table: number; name: string }>();
  db.column_names_original.forEach(([t, raw], c) => {
    const table = tables[t];
    if (t < 0 || !table) return; // `*`
    const column: CatalogColumn = {
      name: raw,
      type: spiderType(db.column_types[c]),
      description: db.column_names[c]?.[1] ?? undefined,
      ...(primary.has(c) ? { primaryKey: true } : {}),
    };
    table.columns.push(column);
    columnAt.set(c, { table: t, name: raw });
  });
  let droppedForeignKeys = 0;
  for (const [from, to] of db.foreign_keys) {
    const source = columnAt.get(from);
    const target = columnAt.get(to);
    const table = source ? tables[source.table] : undefined;
    const targetTable = target ? tables[target.table] : undefined;
    if (!source || !target || !table || !targetTable) {
      droppedForeignKeys++;
      continue;
    }
    const fk: CatalogForeignKey = {
      columns: [source.name],
      references: { schema: db.db_id, table: targetTable.name, columns: [target.name] },
    };
    table.foreignKeys?.push(fk);
  }
  for (const table of tables) if (table.foreignKeys?.length === 0) delete table.foreignKeys;
  return { schema: { name: db.db_id, description: `Spider database ${db.db_id}`, tables }, droppedForeignKeys };
}

/**
 * One catalog with a schema per Spider database, uploaded as is: identifiers untouched, foreign keys
 * declared twice merged by the catalog parser (and counted in the report).
 *
 * @throws CatalogValidationError when the catalog is refused.
 */
export function buildSpiderCatalog(databases: SpiderDatabase[], name: string): SpiderCatalog {
  const schemaOf = new Map<string, string>();
  const schemas: CatalogSchema[] = [];
  let droppedForeignKeys = 0;
  for (const db of databases) {
    const converted = toSchema(db);
    schemas.push(converted.schema);
    schemaOf.set(db.db_id, db.db_id);
    droppedForeignKeys += converted.droppedForeignKeys;
  }
  const { catalog, notices } = parseCatalogWithNotices({
    name,
    description: `Spider 1.0 (Yale LILY): ${schemas.length} databases, one schema each`,
    schemas,
  } satisfies CatalogInput);
  const report: ConversionReport = {
    databases: catalog.schemas.length,
    tables: 0,
    columns: 0,
    foreignKeys: 0,
    mergedForeignKeys: notices.length,
    droppedForeignKeys,
  };
  for (const schema of catalog.schemas) {
    for (const table of schema.tables) {
      report.tables++;
      report.columns += table.columns.length;
      report.foreignKeys += table.foreignKeys?.length ?? 0;
    }
  }
  return { catalog, schemaOf, report };
}

/**
 * Spider databases in benchmark order: those with dev questions first (in the order dev.json first names
 * them), then the rest of tables.json; capped at `limit`.
 */
export function pickDatabases(data: SpiderData, limit: number): SpiderDatabase[] {
  const byId = new Map(data.databases.map((db) => [db.db_id, db]));
  const ordered: SpiderDatabase[] = [];
  const added = new Set<string>();
  const add = (id: string) => {
    const db = byId.get(id);
    if (db && !added.has(id)) {
      added.add(id);
      ordered.push(db);
    }
  };
  for (const q of data.questions) add(q.db_id);
  for (const db of data.databases) add(db.db_id);
  return ordered.slice(0, limit);
}

/** `count` questions spread evenly over dev.json, among those whose database is in the catalog. */
export function pickQuestions(questions: SpiderQuestion[], schemaOf: Map<string, string>, count: number): SpiderQuestion[] {
  const eligible = questions.filter((q) => schemaOf.has(q.db_id));
  if (count >= eligible.length) return eligible;
  const step = eligible.length / count;
  return Array.from({ length: count }, (_, i) => eligible[Math.floor(i * step)]!);
}

/**
 * A copy of the catalog with the description of about `fraction` of its columns changed (every n-th column
 * in upload order), so that a reindex has a known, small set of changed chunks.
 */
export function editColumnDescriptions(catalog: Catalog, fraction: number): { edited: Catalog; columnsEdited: number } {
  const edited = structuredClone(catalog);
  const every = Math.max(1, Math.round(1 / fraction));
  let index = 0;
  let columnsEdited = 0;
  for (const schema of edited.schemas) {
    for (const table of schema.tables) {
      for (const column of table.columns) {
        if (index++ % every !== 0) continue;
        column.description = `${column.description ?? column.name} (revised: values checked against the source system)`;
        columnsEdited++;
      }
    }
  }
  return { edited, columnsEdited };
}

/** Spider's union catalog, `copies` times over: each copy's databases renamed `<db>_c<k>`, so every chunk differs. */
export function replicatedCatalog(databases: SpiderDatabase[], copies: number): Catalog {
  const copied = Array.from({ length: copies }, (_, k) => databases.map((db) => ({ ...db, db_id: `${db.db_id}_c${k + 1}` }))).flat();
  return buildSpiderCatalog(copied, `spider_x${copies}`).catalog;
}
