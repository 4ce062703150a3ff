import { tableKey } from '@catalog-indexer/catalog';

/** A retrieved chunk, as far as table ranking needs it. */
export interface RankedChunk {
  kind: string;
  score: number;
  metadata: Record<string, unknown>;
}

/** A table and the score it earned from its chunks. */
export interface TableScore<T extends RankedChunk = RankedChunk> {
  schema: string;
  table: string;
  /** Item key of the table (`schema.table`, names quoted as keys quote them). */
  key: string;
  score: number;
  /** The table's own chunks (table, columns, relationships touching it) among the hits, best first. */
  chunks: T[];
}

/** Chunks of a table that count towards its score, and how fast their weight falls. */
export const TABLE_SCORE = { chunks: 3, decay: 0.5 } as const;

/** `v` when it is a string (a name read from a chunk's metadata or payload). */
export const stringValue = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The tables a chunk speaks for: its own, and for a relationship both ends. */
export function tablesOf(chunk: RankedChunk): { schema: string; table: string }[] {
  const schema = stringValue(chunk.metadata.schema);
  const table = stringValue(chunk.metadata.table);
  const out = schema !== undefined && table !== undefined ? [{ schema, table }] : [];
  if (chunk.kind === 'relationship') {
    const toSchema = stringValue(chunk.metadata.referencedSchema);
    const toTable = stringValue(chunk.metadata.referencedTable);
    if (toSchema !== undefined && toTable !== undefined && !(toSchema === schema && toTable === table)) {
      out.push({ schema: toSchema, table: toTable });
    }
  }
  return out;
}

/**
 * Ranks tables by their best chunks among the hits. Rule: a table's score is `s₁ + ½·s₂ + ¼·s₃`, where
 * `s₁ ≥ s₂ ≥ s₃` are the fused scores of its three best chunks (its table chunk, its column chunks and the
 * relationship chunks at either end of which it stands; a relationship counts fully for both tables).
 * One strong chunk decides most of a table's score, a few more confirm it, and a wide table cannot win by
 * the number of its columns alone. Ties keep the order of the first hit. Documents and examples name no
 * table and are left out.
 */
export function rankTables<T extends RankedChunk>(chunks: readonly T[]): TableScore<T>[] {
  const byKey = new Map<string, TableScore<T>>();
  const sorted = [...chunks].sort((a, b) => b.score - a.score);
  for (const chunk of sorted) {
    for (const { schema, table } of tablesOf(chunk)) {
      const key = tableKey(schema, table);
      let entry = byKey.get(key);
      if (!entry) {
        entry = { schema, table, key, score: 0, chunks: [] };
        byKey.set(key, entry);
      }
      entry.chunks.push(chunk);
    }
  }
  for (const entry of byKey.values()) {
    let weight = 1;
    for (const chunk of entry.chunks.slice(0, TABLE_SCORE.chunks)) {
      entry.score += weight * chunk.score;
      weight *= TABLE_SCORE.decay;
    }
  }
  return [...byKey.values()].sort((a, b) => b.score - a.score);
}
