import { CATALOG_LIMITS } from './catalog.schema';
import { type CatalogProblem } from './catalog-validation.error';
import { exampleKey } from './keys';
import { didYouMean } from './suggest';

/*
 * Rules that span items (totals, unique names, foreign keys). They read the raw input defensively, so they
 * also run when parts of it have the wrong shape: an upload gets every problem in one answer, not the
 * shape errors first and the reference errors on the next try.
 */

type Loose = Record<string, unknown>;

function isRecord(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Schema name → table name → column names, as far as the input can be read (first of duplicates wins). */
type NameIndex = Map<string, Map<string, Set<string>>>;

function indexNames(input: Loose): NameIndex {
  const index: NameIndex = new Map();
  for (const schema of list(input.schemas)) {
    const schemaName = isRecord(schema) ? text(schema.name) : undefined;
    if (schemaName === undefined || !isRecord(schema) || index.has(schemaName)) continue;
    const tables = new Map<string, Set<string>>();
    index.set(schemaName, tables);
    for (const table of list(schema.tables)) {
      const tableName = isRecord(table) ? text(table.name) : undefined;
      if (tableName === undefined || !isRecord(table) || tables.has(tableName)) continue;
      const columns = new Set<string>();
      for (const column of list(table.columns)) {
        const columnName = isRecord(column) ? text(column.name) : undefined;
        if (columnName !== undefined) columns.add(columnName);
      }
      tables.set(tableName, columns);
    }
  }
  return index;
}

/**
 * Reports the second and later items of `items` whose `identify` value repeats an earlier one.
 * `describe` turns the repeated value and the path of the first occurrence into a message.
 */
function checkUnique(
  items: unknown[],
  basePath: string,
  field: string | null,
  identify: (item: Loose) => string | undefined,
  describe: (value: string, firstPath: string) => string,
): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    if (!isRecord(item)) return;
    const value = identify(item);
    if (value === undefined) return;
    const first = seen.get(value);
    if (first === undefined) {
      seen.set(value, i);
      return;
    }
    const path = `${basePath}[${i}]${field === null ? '' : `.${field}`}`;
    problems.push({ path, message: describe(value, `${basePath}[${first}]`) });
  });
  return problems;
}

function checkTotals(input: Loose): CatalogProblem[] {
  let tables = 0;
  let columns = 0;
  for (const schema of list(input.schemas)) {
    if (!isRecord(schema)) continue;
    for (const table of list(schema.tables)) {
      tables += 1;
      if (isRecord(table)) columns += list(table.columns).length;
    }
  }
  const problems: CatalogProblem[] = [];
  if (tables > CATALOG_LIMITS.tablesMax) {
    problems.push({
      path: 'schemas',
      message: `has ${tables} tables and views in all; at most ${CATALOG_LIMITS.tablesMax} are allowed per catalog: split it into several catalogs`,
    });
  }
  if (columns > CATALOG_LIMITS.columnsMax) {
    problems.push({
      path: 'schemas',
      message: `has ${columns} columns in all; at most ${CATALOG_LIMITS.columnsMax} are allowed per catalog: split it into several catalogs`,
    });
  }
  return problems;
}

function checkForeignKey(
  fk: Loose,
  path: string,
  owner: { schema: string; table: string; columns: Set<string> },
  index: NameIndex,
): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const ownerName = `${owner.schema}.${owner.table}`;
  const columns = list(fk.columns);
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    const name = text(c);
    if (name === undefined) return;
    if (seen.has(name)) {
      problems.push({ path: `${path}.columns[${i}]`, message: `lists column "${name}" twice; list each column once` });
    }
    seen.add(name);
    if (!owner.columns.has(name)) {
      problems.push({
        path: `${path}.columns[${i}]`,
        message: `"${name}" is not a column of ${ownerName}; a foreign key must use columns of its own table.${didYouMean(name, owner.columns)}`,
      });
    }
  });

  const ref = fk.references;
  if (!isRecord(ref)) return problems;
  const refPath = `${path}.references`;
  const refSchema = text(ref.schema);
  const refTable = text(ref.table);
  const refColumns = list(ref.columns);
  if (refSchema === undefined || refTable === undefined) return problems;
  const tables = index.get(refSchema);
  if (!tables) {
    problems.push({
      path: `${refPath}.schema`,
      message: `schema "${refSchema}" is not in the catalog; reference one of its schemas or add it.${didYouMean(refSchema, index.keys())}`,
    });
    return problems;
  }
  const target = tables.get(refTable);
  if (!target) {
    problems.push({
      path: `${refPath}.table`,
      message: `table "${refSchema}.${refTable}" is not in the catalog; reference one of the tables of schema "${refSchema}" or add it.${didYouMean(refTable, tables.keys())}`,
    });
    return problems;
  }
  refColumns.forEach((c, i) => {
    const name = text(c);
    if (name !== undefined && !target.has(name)) {
      problems.push({
        path: `${refPath}.columns[${i}]`,
        message: `"${name}" is not a column of ${refSchema}.${refTable}.${didYouMean(name, target)}`,
      });
    }
  });
  if (Array.isArray(fk.columns) && Array.isArray(ref.columns) && columns.length !== refColumns.length) {
    problems.push({
      path: `${refPath}.columns`,
      message: `lists ${refColumns.length} column(s) but the foreign key has ${columns.length}; list one referenced column per foreign key column, in the same order`,
    });
  }
  return problems;
}

function checkTable(table: Loose, path: string, schema: string, index: NameIndex): CatalogProblem[] {
  const name = text(table.name);
  const problems = checkUnique(
    list(table.columns),
    `${path}.columns`,
    'name',
    (c) => text(c.name),
    (value, first) => `duplicate column name "${value}" (first at ${first}); column names must be unique within a table`,
  );
  if (name === undefined) return problems;
  const foreignKeys = list(table.foreignKeys);
  // The table's own columns, not the index's: under a repeated table name the index holds the first table.
  const columns = new Set(list(table.columns).flatMap((c) => (isRecord(c) && typeof c.name === 'string' ? [c.name] : [])));
  const owner = { schema, table: name, columns };
  foreignKeys.forEach((fk, i) => {
    if (isRecord(fk)) problems.push(...checkForeignKey(fk, `${path}.foreignKeys[${i}]`, owner, index));
  });
  return problems;
}

/**
 * Checks what the zod schema cannot see one item at a time: catalog-wide totals, names unique within their
 * parent, examples not repeated, and foreign keys that point at columns that exist, with as many referenced
 * columns as their own. Returns every problem; an empty list means the rules hold.
 */
export function checkCatalogRules(input: unknown): CatalogProblem[] {
  if (!isRecord(input)) return [];
  const index = indexNames(input);
  const schemas = list(input.schemas);
  const problems: CatalogProblem[] = [...checkTotals(input)];
  problems.push(
    ...checkUnique(
      schemas,
      'schemas',
      'name',
      (s) => text(s.name),
      (value, first) => `duplicate schema name "${value}" (first at ${first}); schema names must be unique in a catalog`,
    ),
  );
  schemas.forEach((schema, i) => {
    if (!isRecord(schema)) return;
    const path = `schemas[${i}]`;
    const tables = list(schema.tables);
    problems.push(
      ...checkUnique(
        tables,
        `${path}.tables`,
        'name',
        (t) => text(t.name),
        (value, first) => `duplicate table name "${value}" (first at ${first}); table and view names must be unique within a schema`,
      ),
    );
    const schemaName = text(schema.name);
    if (schemaName === undefined) return;
    tables.forEach((table, j) => {
      if (isRecord(table)) problems.push(...checkTable(table, `${path}.tables[${j}]`, schemaName, index));
    });
  });
  problems.push(
    ...checkUnique(
      list(input.documents),
      'documents',
      'title',
      (d) => text(d.title),
      (value, first) => `duplicate document title "${value}" (first at ${first}); document titles must be unique in a catalog`,
    ),
  );
  problems.push(
    ...checkUnique(
      list(input.examples),
      'examples',
      null,
      (e) => {
        const question = text(e.question);
        const sql = text(e.sql);
        return question === undefined || sql === undefined ? undefined : exampleKey(question, sql);
      },
      (_value, first) => `repeats the question and SQL of ${first}; remove one`,
    ),
  );
  return problems;
}
