import {
  chunkCatalog,
  columnKey,
  isKeyRejected,
  tableKey,
  type Catalog,
  type CatalogColumn,
  type CatalogTable,
} from '@catalog-indexer/catalog';

/** One end of a join: a table and its columns, in the order they pair up with the other end's. */
export interface JoinEnd {
  schema: string;
  table: string;
  columns: string[];
}

/** A join condition along a foreign key: `from.columns[i] = to.columns[i]`. */
export interface Join {
  from: JoinEnd;
  to: JoinEnd;
}

/** A table or view of the catalog as the context shows it, rejected columns left out. */
export interface GraphTable {
  key: string;
  schema: string;
  table: string;
  type: 'table' | 'view';
  description: string | undefined;
  columns: CatalogColumn[];
}

/** An edge of the join graph: a foreign key, walkable both ways. */
interface Edge {
  join: Join;
  /** Key of the table at the other end. */
  other: string;
}

/**
 * The visible tables of one catalog and the foreign keys between them, as an undirected graph, for join
 * paths. Built once per catalog version and set of rejections (see `CatalogGraphCache`).
 */
export class CatalogGraph {
  readonly tables = new Map<string, GraphTable>();
  private readonly edges = new Map<string, Edge[]>();
  /** Chunk key of each visible relationship → the table it references. */
  private readonly referenced = new Map<string, { schema: string; table: string }>();

  constructor(catalog: Catalog, rejectedKeys: ReadonlySet<string>) {
    for (const schema of catalog.schemas) {
      for (const table of schema.tables) {
        const key = tableKey(schema.name, table.name);
        if (isKeyRejected(key, rejectedKeys)) continue;
        this.tables.set(key, {
          key,
          schema: schema.name,
          table: table.name,
          type: table.type,
          description: table.description,
          columns: visibleColumns(schema.name, table, rejectedKeys),
        });
      }
    }
    // The chunker already knows which foreign keys are visible; reuse its rule rather than restate it.
    for (const chunk of chunkCatalog({ ...catalog, documents: [], examples: [] }, { rejectedKeys })) {
      if (chunk.kind !== 'relationship') continue;
      const m = chunk.metadata;
      this.referenced.set(chunk.key, { schema: m.referencedSchema ?? '', table: m.referencedTable ?? '' });
      const join: Join = {
        from: { schema: m.schema ?? '', table: m.table ?? '', columns: [...(m.columns ?? [])] },
        to: { schema: m.referencedSchema ?? '', table: m.referencedTable ?? '', columns: [...(m.referencedColumns ?? [])] },
      };
      const a = tableKey(join.from.schema, join.from.table);
      const b = tableKey(join.to.schema, join.to.table);
      if (a === b) continue;
      this.edges.set(a, [...(this.edges.get(a) ?? []), { join, other: b }]);
      this.edges.set(b, [...(this.edges.get(b) ?? []), { join, other: a }]);
    }
  }

  /** The table a relationship chunk (by its chunk key) references, if the relationship is in the catalog. */
  referencedBy(chunkKey: string): { schema: string; table: string } | undefined {
    return this.referenced.get(chunkKey);
  }

  /**
   * A shortest join path (fewest foreign keys, at most `maxEdges`) from any table of `from` to `to`: the
   * joins along it and the tables it passes through on the way (the bridge tables). `null` when no such
   * path exists. Breadth-first; among paths of equal length the first found in catalog order wins.
   */
  shortestPath(from: ReadonlySet<string>, to: string, maxEdges: number): { joins: Join[]; via: string[] } | null {
    if (from.has(to)) return { joins: [], via: [] };
    const previous = new Map<string, { key: string; join: Join } | null>();
    let frontier = [...from];
    for (const key of frontier) previous.set(key, null);
    for (let depth = 0; depth < maxEdges && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const key of frontier) {
        for (const edge of this.edges.get(key) ?? []) {
          if (previous.has(edge.other)) continue;
          previous.set(edge.other, { key, join: edge.join });
          if (edge.other === to) return unwind(previous, to);
          next.push(edge.other);
        }
      }
      frontier = next;
    }
    return null;
  }
}

function unwind(previous: Map<string, { key: string; join: Join } | null>, to: string): { joins: Join[]; via: string[] } {
  const joins: Join[] = [];
  const via: string[] = [];
  let step = previous.get(to);
  while (step) {
    joins.unshift(step.join);
    const before = previous.get(step.key);
    if (before) via.unshift(step.key);
    step = before;
  }
  return { joins, via };
}

function visibleColumns(schema: string, table: CatalogTable, rejectedKeys: ReadonlySet<string>): CatalogColumn[] {
  return table.columns.filter((c) => !isKeyRejected(columnKey(schema, table.name, c.name), rejectedKeys));
}
