import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/** A row of a pgvector-era `dq_embeddings` table as a test writes it; `vector` null for a row never embedded. */
export interface LegacyTestRow {
  id: string;
  content: string;
  kind: string | null;
  catalogId: string | null;
  metadata: Record<string, unknown> | null;
  vector: number[] | null;
}

/** A small deterministic generator (mulberry32), so test data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A unit vector of float32 values (exactly representable in a `vector` column). */
export function float32Vector(dims: number, random: () => number): number[] {
  const v = Array.from({ length: dims }, () => random() * 2 - 1);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => Math.fround(x / norm));
}

/**
 * Rows like a real pgvector-era table's: `catalogs` catalogs of tables and columns named in the metadata,
 * plus (with `awkward`) a row never embedded, a row of no catalog and a row with NULL metadata.
 */
export function legacyRows(options: { rows: number; dims: number; catalogs: string[]; seed?: number; awkward?: boolean }): LegacyTestRow[] {
  const random = seededRandom(options.seed ?? 1);
  const rows: LegacyTestRow[] = [];
  for (let i = 0; i < options.rows; i++) {
    const catalogId = options.catalogs[i % options.catalogs.length] ?? null;
    const table = `table_${i % 7}`;
    const column = i % 3 === 0 ? null : `column_${i}`;
    rows.push({
      id: randomUUID(),
      content: column ? `Column ${column} of ${table}: value number ${i}` : `Table ${table}: rows of kind ${i % 7}`,
      kind: column ? 'column' : 'table',
      catalogId,
      metadata: column ? { schema: 'public', table, column } : { schema: 'public', table },
      vector: float32Vector(options.dims, random),
    });
  }
  if (options.awkward) {
    rows.push({ id: randomUUID(), content: 'never embedded', kind: 'table', catalogId: options.catalogs[0] ?? null, metadata: {}, vector: null });
    rows.push({ id: randomUUID(), content: 'no catalog', kind: 'table', catalogId: null, metadata: {}, vector: float32Vector(options.dims, random) });
    rows.push({ id: randomUUID(), content: 'no metadata', kind: null, catalogId: options.catalogs[0] ?? null, metadata: null, vector: float32Vector(options.dims, random) });
  }
  return rows;
}

/**
 * Creates the pgvector-era layout in the database at `url` (`CREATE EXTENSION vector`, then
 * `table (id uuid, content, embedding vector(dims), kind, catalog_id, metadata json)`, with an HNSW index)
 * and writes `rows`. `dims: null` makes the column untyped (rows may hold vectors of any size).
 */
export async function createPgvectorEraTable(url: string, rows: readonly LegacyTestRow[], options: { dims: number | null; table?: string }): Promise<void> {
  const table = options.table ?? 'dq_embeddings';
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    await client.query(
      `CREATE TABLE ${table} (id uuid PRIMARY KEY, content text NOT NULL, embedding vector${options.dims ? `(${options.dims})` : ''},
        kind varchar(50), catalog_id uuid, metadata json)`,
    );
    if (options.dims) await client.query(`CREATE INDEX ${table}_embedding_idx ON ${table} USING hnsw (embedding vector_cosine_ops)`);
    await client.query(`CREATE INDEX ${table}_catalog_idx ON ${table} (catalog_id)`);
    for (let i = 0; i < rows.length; i += 200) {
      const slice = rows.slice(i, i + 200);
      await client.query(
        `INSERT INTO ${table} (id, content, embedding, kind, catalog_id, metadata)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::vector[], $4::varchar[], $5::uuid[], $6::json[])`,
        [
          slice.map((r) => r.id),
          slice.map((r) => r.content),
          slice.map((r) => (r.vector ? `[${r.vector.join(',')}]` : null)),
          slice.map((r) => r.kind),
          slice.map((r) => r.catalogId),
          slice.map((r) => (r.metadata ? JSON.stringify(r.metadata) : null)),
        ],
      );
    }
  } finally {
    await client.end();
  }
}

/** Cosine similarity of two vectors. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}
