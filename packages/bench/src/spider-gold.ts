import { type SpiderDatabase, type SpiderQuestion } from './spider-catalog';

/** The tables and columns a Spider question's SQL uses, as lowercase `db.table` and `db.table.column`. */
export interface Gold {
  tables: Set<string>;
  columns: Set<string>;
}

const lower = (s: string): string => s.toLowerCase();

/**
 * Reads the gold tables and columns off a Spider query. Tables: the names after `FROM` and `JOIN` that are
 * tables of the question's database (Spider writes them bare). Columns: `alias.column` resolved through
 * `table AS alias`, and bare names that are a column of a gold table (of every gold table having one by
 * that name, since Spider leaves such names unqualified only when they are unambiguous or the same).
 */
export function goldOf(question: SpiderQuestion, db: SpiderDatabase): Gold {
  const tableNames = new Map(db.table_names_original.map((t) => [lower(t), t]));
  const columnsOf = new Map<string, Set<string>>();
  db.column_names_original.forEach(([t, name]) => {
    const table = db.table_names_original[t];
    if (t < 0 || table === undefined) return;
    const set = columnsOf.get(lower(table)) ?? new Set<string>();
    set.add(lower(name));
    columnsOf.set(lower(table), set);
  });
  const prefix = lower(db.db_id);
  const tables = new Set<string>();
  const aliases = new Map<string, string>();
  for (const m of question.query.matchAll(/\b(?:from|join)\s+([A-Za-z_]\w*)(?:\s+(?:as\s+)?([A-Za-z_]\w*))?/gi)) {
    const table = lower(m[1] ?? '');
    if (!tableNames.has(table)) continue;
    tables.add(table);
    const alias = m[2];
    if (alias && /^t\d+$/i.test(alias)) aliases.set(lower(alias), table);
  }
  const columns = new Set<string>();
  for (const m of question.query.matchAll(/\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)/g)) {
    const table = aliases.get(lower(m[1] ?? '')) ?? lower(m[1] ?? '');
    const column = lower(m[2] ?? '');
    if (tables.has(table) && columnsOf.get(table)?.has(column)) columns.add(`${prefix}.${table}.${column}`);
  }
  for (const m of question.query.matchAll(/(?<![.\w])([A-Za-z_]\w*)(?![\w.])/g)) {
    const column = lower(m[1] ?? '');
    for (const table of tables) if (columnsOf.get(table)?.has(column)) columns.add(`${prefix}.${table}.${column}`);
  }
  return { tables: new Set([...tables].map((t) => `${prefix}.${t}`)), columns };
}
