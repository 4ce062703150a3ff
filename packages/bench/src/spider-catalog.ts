import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CatalogValidationError,
  parseCatalog,
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

/** What the conversion had to change or leave out to satisfy the catalog rules. */
export interface ConversionReport {
  databases: number;
  tables: number;
  columns: number;
  foreignKeys: number;
  /** Names whose reserved characters were replaced by `_` (or renamed to stay unique). */
  renamedNames: string[];
  droppedForeignKeys: number;
  /** Databases left out because their schema still failed validation, with the first problem. */
  rejectedDatabases: { dbId: string; problem: string }[];
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

// Reserved by the catalog rules: they structure item keys.
// eslint-disable-next-line no-control-regex
const RESERVED = /[.:(),\u0000-\u001f\u007f]/g;

function cleanName(raw: string, renamed: string[]): string {
  let name = raw.replace(RESERVED, '_').trim().slice(0, 128);
  if (name === '') name = '_';
  if (name !== raw) renamed.push(raw);
  return name;
}

/** A name not yet in `taken` (adds `_2`, `_3`… when needed), recorded as taken. */
function uniqueIn(taken: Set<string>, name: string, renamed: string[]): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name}_${n}`;
  if (candidate !== name) renamed.push(name);
  taken.add(candidate);
  return candidate;
}

function spiderType(type: string | undefined): string {
  return type && type.trim() !== '' ? type.trim() : 'text';
}

/** Converts one Spider database into a catalog schema; also returns how many foreign keys were dropped. */
function toSchema(db: SpiderDatabase, schemaName: string, renamed: string[]): { schema: CatalogSchema; droppedForeignKeys: number } {
  const tableNames = new Set<string>();
  const tables: CatalogTable[] = db.table_names_original.map((raw, t) => ({
    name: uniqueIn(tableNames, cleanName(raw, renamed), renamed),
    type: 'table' as const,
    description: db.table_names[t] ?? undefined,
    columns: [],
    foreignKeys: [],
  }));
  const primary = new Set(db.primary_keys.flat());
  // Spider column index → [table index, column name in the catalog].
  const columnAt = new Map<number, { table: number; name: string }>();
  const columnNames = tables.map(() => new Set<string>());
  db.column_names_original.forEach(([t, raw], c) => {
    const table = tables[t];
    const taken = columnNames[t];
    if (t < 0 || !table || !taken) return; // `*`
    const name = uniqueIn(taken, cleanName(raw, renamed), renamed);
    const column: CatalogColumn = {
      name,
      type: spiderType(db.column_types[c]),
      description: db.column_names[c]?.[1] ?? undefined,
      ...(primary.has(c) ? { primaryKey: true } : {}),
    };
    table.columns.push(column);
    columnAt.set(c, { table: t, name });
  });
  let droppedForeignKeys = 0;
  const seen = new Set<string>();
  for (const [from, to] of db.foreign_keys) {
    const source = columnAt.get(from);
    const target = columnAt.get(to);
    const key = `${from}->${to}`;
    const table = source ? tables[source.table] : undefined;
    const targetTable = target ? tables[target.table] : undefined;
    if (!source || !target || !table || !targetTable || seen.has(key) || from === to) {
      droppedForeignKeys++;
      continue;
    }
    seen.add(key);
    const fk: CatalogForeignKey = {
      columns: [source.name],
      references: { schema: schemaName, table: targetTable.name, columns: [target.name] },
    };
    table.foreignKeys?.push(fk);
  }
  for (const table of tables) if (table.foreignKeys?.length === 0) delete table.foreignKeys;
  return { schema: { name: schemaName, description: `Spider database ${db.db_id}`, tables }, droppedForeignKeys };
}

function firstProblem(error: unknown): string {
  if (error instanceof CatalogValidationError) {
    const p = error.details[0];
    return p ? `${p.path}: ${p.message}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * One catalog with a schema per Spider database. Names the catalog rules reject are repaired (reserved
 * characters become `_`), duplicate or invalid foreign keys are dropped, and a database whose schema still
 * fails validation on its own is left out (and reported), so the whole catalog always validates.
 */
export function buildSpiderCatalog(databases: SpiderDatabase[], name: string): SpiderCatalog {
  const renamed: string[] = [];
  const schemaNames = new Set<string>();
  const schemaOf = new Map<string, string>();
  const schemas: CatalogSchema[] = [];
  const report: ConversionReport = {
    databases: 0,
    tables: 0,
    columns: 0,
    foreignKeys: 0,
    renamedNames: renamed,
    droppedForeignKeys: 0,
    rejectedDatabases: [],
  };
  for (const db of databases) {
    const schemaName = uniqueIn(schemaNames, cleanName(db.db_id, renamed), renamed);
    const { schema, droppedForeignKeys } = toSchema(db, schemaName, renamed);
    try {
      parseCatalog({ name, schemas: [schema] } satisfies CatalogInput);
    } catch (error) {
      report.rejectedDatabases.push({ dbId: db.db_id, problem: firstProblem(error) });
      schemaNames.delete(schemaName);
      continue;
    }
    schemas.push(schema);
    schemaOf.set(db.db_id, schemaName);
    report.databases++;
    report.droppedForeignKeys += droppedForeignKeys;
    for (const table of schema.tables) {
      report.tables++;
      report.columns += table.columns.length;
      report.foreignKeys += table.foreignKeys?.length ?? 0;
    }
  }
  const catalog = parseCatalog({
    name,
    description: `Spider 1.0 (Yale LILY): ${report.databases} databases, one schema each`,
    schemas,
  } satisfies CatalogInput);
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
