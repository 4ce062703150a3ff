import { type CatalogGraph, type GraphTable, type Join } from './catalog-graph';
import { CONTEXT_RULES } from './context.rules';
import { type TableScore } from './table-ranker';

/** A table of the answer, as {@link chooseTables} chose it. */
export interface ChosenTable {
  graph: GraphTable;
  score: number;
  /** True for a table added because a join path between chosen tables passes through it. */
  bridge: boolean;
  /** Column name → its best hit score, for the columns the question touched. */
  hitColumns: Map<string, number>;
  /** Columns that must stay: primary keys and columns of the joins in the answer. */
  keyColumns: Set<string>;
}

/**
 * The tables of the answer, in order, with the joins between them: tables in rank order, each connected to
 * those chosen before it by a shortest path of at most {@link CONTEXT_RULES.maxJoinEdges} foreign keys, the
 * tables that path passes through added as bridge tables right after it when `maxTables` leaves room.
 */
export function chooseTables(graph: CatalogGraph, ranked: readonly TableScore[], maxTables: number): { chosen: ChosenTable[]; joins: Join[] } {
  const scoreOf = new Map(ranked.map((t) => [t.key, t]));
  const chosen: ChosenTable[] = [];
  const keys = new Set<string>();
  const joins: Join[] = [];
  const make = (table: GraphTable, bridge: boolean): ChosenTable => {
    const score = scoreOf.get(table.key);
    const hitColumns = new Map<string, number>();
    for (const chunk of score?.chunks ?? []) {
      const column = chunk.metadata.column;
      if (chunk.kind === 'column' && typeof column === 'string' && !hitColumns.has(column)) hitColumns.set(column, chunk.score);
    }
    const keyColumns = new Set(table.columns.filter((c) => c.primaryKey === true).map((c) => c.name));
    return { graph: table, score: score?.score ?? 0, bridge, hitColumns, keyColumns };
  };
  for (const candidate of ranked) {
    if (chosen.length >= maxTables) break;
    const table = graph.tables.get(candidate.key);
    if (!table || keys.has(table.key)) continue;
    const path = keys.size > 0 ? graph.shortestPath(keys, table.key, CONTEXT_RULES.maxJoinEdges) : null;
    const bridges = (path?.via ?? []).filter((k) => !keys.has(k));
    const fits = chosen.length + 1 + bridges.length <= maxTables;
    chosen.push(make(table, false));
    keys.add(table.key);
    if (!path || !fits) continue;
    for (const key of bridges) {
      const bridge = graph.tables.get(key);
      if (!bridge) continue;
      chosen.push(make(bridge, true));
      keys.add(key);
    }
    joins.push(...path.joins);
  }
  for (const join of joins) {
    for (const end of [join.from, join.to]) {
      const c = chosen.find((x) => x.graph.schema === end.schema && x.graph.table === end.table);
      for (const column of end.columns) c?.keyColumns.add(column);
    }
  }
  return { chosen, joins };
}
