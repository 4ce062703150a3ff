import { endianness } from 'node:os';
import { Pool, escapeIdentifier, type PoolConfig } from 'pg';
import { AdoptionError } from './adoption.error';
import { parseConnectionString, tlsOptions } from './connection-string';
import { ImportError } from './import.error';
import { SourcePolicy } from './source-policy';

/** One row of a pgvector-era table as the adoption reads it; `vector` is null when the row has none. */
export interface LegacyRow {
  id: string;
  content: string;
  kind: string | null;
  catalogId: string | null;
  metadata: unknown;
  vector: Float32Array | null;
}

/** The vector column of a legacy table and the size of its vectors. */
export interface LegacyLayout {
  table: string;
  column: string;
  /** The declared size (`vector(3072)`), or, for an untyped `vector` column, the most common size found. */
  dimensions: number;
  /** False for an untyped `vector` column, whose rows may hold other sizes. */
  typed: boolean;
  rows: number;
  /** Which of the optional columns the table has. */
  has: { kind: boolean; catalog_id: boolean; metadata: boolean };
}

/** `host:port/database` of a connection string: what messages and records name, never a user or password. */
export function describeSource(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the source database';
  }
}

/**
 * The one way the adoption reaches a pgvector-era database (the product's own in place, or a separate
 * source). Connection failures become {@link AdoptionError}s that say what to fix without the string.
 */
export async function openSource(
  url: string,
  options: { connectMs?: number; statementMs?: number; allowedHosts?: readonly string[] } = {},
): Promise<LegacySource> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AdoptionError('invalid_connection_string', 'sourceUrl is not a URL; give it as postgres://user:password@host:5432/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new AdoptionError('invalid_connection_string', `sourceUrl starts with "${parsed.protocol.slice(0, 20)}//"; a pgvector source is PostgreSQL: use postgres://`);
  }
  const display = describeSource(url);
  const settings: PoolConfig = {
    max: 2,
    connectionTimeoutMillis: options.connectMs ?? 10_000,
    statement_timeout: options.statementMs ?? 120_000,
    application_name: 'catalog-indexer-pgvector',
  };
  if (options.allowedHosts) {
    // A database a caller names: the importer's policy (fields only, IMPORT_ALLOWED_HOSTS checked before connecting).
    const { conn, address } = await admit(url, options.allowedHosts);
    Object.assign(settings, { host: address, port: conn.port, user: conn.user, password: conn.password, database: conn.database ?? conn.user, ssl: tlsOptions(conn) ?? false });
  } else {
    // The product's own database (DATABASE_URL), which the operator configured.
    settings.connectionString = url;
  }
  const pool = new Pool(settings);
  pool.on('error', () => undefined);
  const source = new LegacySource(pool, display, parsed.username || 'postgres');
  try {
    await source.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return source;
}

/** The importer's connection policy for a caller's URL, its refusals as {@link AdoptionError}s. */
async function admit(url: string, allowedHosts: readonly string[]) {
  try {
    return await new SourcePolicy(allowedHosts).admit(parseConnectionString(url));
  } catch (error) {
    if (error instanceof ImportError && error.code === 'source_not_allowed') throw new AdoptionError('source_not_allowed', error.message.replace('connecting to', 'reading'));
    if (error instanceof ImportError && (error.code === 'invalid_connection_string' || error.code === 'source_unreachable')) {
      throw new AdoptionError(error.code, error.message.replace(/connectionString/g, 'the connection string'));
    }
    throw error;
  }
}

/** A connected pgvector-era database. Every statement's failure is mapped to an {@link AdoptionError}. */
export class LegacySource {
  constructor(
    private readonly pool: Pool,
    /** `host:port/database`. */
    readonly display: string,
    private readonly user: string,
  ) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(sql, params)).rows as T[];
    } catch (error) {
      throw this.toAdoptionError(error);
    }
  }

  /**
   * The table's vector column (`embedding`, else its only `vector` column) and size.
   * @throws AdoptionError `source_table_not_found`, `source_not_vector`
   */
  async inspect(table: string): Promise<LegacyLayout> {
    const found = await this.query<{ oid: number | null }>(`SELECT to_regclass($1)::oid AS oid`, [quoteName(table)]);
    const oid = found[0]?.oid;
    if (!oid) throw new AdoptionError('source_table_not_found', `${this.display} has no table "${table}": give the pgvector table as "table"`);
    const columns = await this.query<{ name: string; type: string; typmod: number }>(
      `SELECT a.attname AS name, t.typname AS type, a.atttypmod AS typmod
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [oid],
    );
    const vectors = columns.filter((c) => c.type === 'vector');
    const column = vectors.find((c) => c.name === 'embedding') ?? (vectors.length === 1 ? vectors[0] : undefined);
    const missing = ['id', 'content'].filter((n) => !columns.some((c) => c.name === n));
    if (!column || missing.length > 0) {
      throw new AdoptionError(
        'source_not_vector',
        column
          ? `table "${table}" of ${this.display} has no column ${missing.join(', ')}: the pgvector layout is (id, content, embedding vector(n), kind, catalog_id, metadata)`
          : `table "${table}" of ${this.display} has no vector column (an "embedding" of type vector): it holds no pgvector embeddings`,
      );
    }
    const col = escapeIdentifier(column.name);
    const [count] = await this.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteName(table)}`);
    let dimensions = column.typmod > 0 ? column.typmod : 0;
    if (dimensions === 0) {
      const [mode] = await this.query<{ d: number }>(
        `SELECT vector_dims(${col}) AS d FROM ${quoteName(table)} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1`,
      );
      dimensions = mode?.d ?? 0;
    }
    const has = { kind: false, catalog_id: false, metadata: false };
    for (const key of Object.keys(has) as (keyof typeof has)[]) has[key] = columns.some((c) => c.name === key);
    return { table, column: column.name, dimensions, typed: column.typmod > 0, rows: count?.n ?? 0, has };
  }

  /**
   * Up to `limit` rows with ids after `afterId`, in id order. Vectors are read in pgvector's binary form
   * (`vector_send`: 4 bytes per dimension, exact float32), never through their decimal text.
   */
  async page(layout: LegacyLayout, afterId: string | null, limit: number, options: { withVectors?: boolean } = {}): Promise<LegacyRow[]> {
    const hasColumn = layout.has;
    const col = escapeIdentifier(layout.column);
    const page = keyset(afterId, limit);
    const rows = await this.query<{ id: string; content: string; kind: string | null; catalog_id: string | null; metadata: unknown; v: string | null }>(
      `SELECT id::text AS id, content, ${hasColumn.kind ? 'kind::text' : 'NULL'} AS kind,
              ${hasColumn.catalog_id ? 'catalog_id::text' : 'NULL'} AS catalog_id,
              ${hasColumn.metadata ? 'metadata' : 'NULL'} AS metadata,
              ${options.withVectors === false ? 'NULL' : `encode(vector_send(${col}), 'hex')`} AS v
         FROM ${quoteName(layout.table)} AS legacy ${page.clause}`,
      page.params,
    );
    return rows.map((r) => ({
      id: r.id,
      content: r.content,
      kind: r.kind,
      catalogId: r.catalog_id,
      metadata: typeof r.metadata === 'string' ? safeJson(r.metadata) : r.metadata,
      vector: r.v ? decodeHexVector(r.v) : null,
    }));
  }

  /** Rows per catalog that the adoption copies: a vector of the layout's size and a catalog. */
  async migratableCounts(layout: LegacyLayout): Promise<Map<string, number>> {
    const rows = await this.query<{ c: string; n: number }>(
      `SELECT catalog_id::text AS c, count(*)::int AS n FROM ${quoteName(layout.table)}
        WHERE catalog_id IS NOT NULL AND ${ofLayoutSize(layout)} GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.c, r.n]));
  }

  /**
   * A random sample of migratable rows (id, catalog and vector). The sample is drawn on the ids, and only the
   * vectors drawn are read (a sort by `random()` would otherwise read and encode every row's vector).
   */
  async sample(layout: LegacyLayout, size: number): Promise<{ id: string; catalogId: string; vector: Float32Array }[]> {
    const col = escapeIdentifier(layout.column);
    const table = quoteName(layout.table);
    const rows = await this.query<{ id: string; c: string; v: Buffer }>(
      `SELECT legacy.id::text AS id, legacy.catalog_id::text AS c, vector_send(legacy.${col}) AS v
         FROM (SELECT id FROM ${table} WHERE catalog_id IS NOT NULL AND ${ofLayoutSize(layout)} ORDER BY random() LIMIT $1) AS drawn
         JOIN ${table} AS legacy ON legacy.id = drawn.id`,
      [size],
    );
    return rows.map((r) => ({ id: r.id, catalogId: r.c, vector: decodeVector(r.v) }));
  }

  /** pgvector's exact nearest rows of the catalog by cosine distance (`ORDER BY embedding <=> $1`). */
  async exactNeighbours(layout: LegacyLayout, catalogId: string, vector: Float32Array, k: number): Promise<string[]> {
    const col = escapeIdentifier(layout.column);
    const rows = await this.query<{ id: string }>(
      `SELECT id::text AS id FROM ${quoteName(layout.table)}
        WHERE catalog_id = $2::uuid AND ${ofLayoutSize(layout)}
        ORDER BY ${col} <=> $1::vector LIMIT $3`,
      [toSql(vector), catalogId, k],
    );
    return rows.map((r) => r.id);
  }

  /** Drops the vector column, and the extension when no other column of the database uses its type. */
  async dropVectorColumn(layout: LegacyLayout): Promise<{ extensionDropped: boolean }> {
    await this.query(`ALTER TABLE ${quoteName(layout.table)} DROP COLUMN ${escapeIdentifier(layout.column)}`);
    const [users] = await this.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE t.typname IN ('vector', 'halfvec', 'sparsevec') AND a.attnum > 0 AND NOT a.attisdropped`,
    );
    if ((users?.n ?? 0) > 0) return { extensionDropped: false };
    await this.query(`DROP EXTENSION IF EXISTS vector`);
    return { extensionDropped: true };
  }

  /**
   * Makes sure the table has a `vector(dimensions)` column named `column` (creating the extension and the
   * column when they were dropped), for a rollback.
   */
  async ensureVectorColumn(table: string, column: string, dimensions: number): Promise<void> {
    const found = await this.query<{ oid: number | null }>(`SELECT to_regclass($1)::oid AS oid`, [quoteName(table)]);
    if (!found[0]?.oid) throw new AdoptionError('source_table_not_found', `${this.display} has no table "${table}": give the pgvector table as "table"`);
    await this.query(`CREATE EXTENSION IF NOT EXISTS vector`);
    await this.query(`ALTER TABLE ${quoteName(table)} ADD COLUMN IF NOT EXISTS ${escapeIdentifier(column)} vector(${dimensions})`);
  }

  /** Whether the table exists. */
  async hasTable(table: string): Promise<boolean> {
    const found = await this.query<{ oid: number | null }>(`SELECT to_regclass($1)::oid AS oid`, [quoteName(table)]);
    return Boolean(found[0]?.oid);
  }

  /** Writes vectors back by row id. */
  async writeVectors(table: string, column: string, vectors: readonly { id: string; vector: readonly number[] }[]): Promise<number> {
    if (vectors.length === 0) return 0;
    const rows = await this.query<{ id: string }>(
      `UPDATE ${quoteName(table)} t SET ${escapeIdentifier(column)} = x.v::vector
         FROM unnest($1::uuid[], $2::text[]) AS x(id, v) WHERE t.id = x.id RETURNING t.id`,
      [vectors.map((v) => v.id), vectors.map((v) => toSql(v.vector))],
    );
    return rows.length;
  }

  /** Ids of the table after `afterId`, in order (a rollback walks every row). */
  async ids(table: string, afterId: string | null, limit: number): Promise<string[]> {
    const page = keyset(afterId, limit);
    const rows = await this.query<{ id: string }>(
      `SELECT id::text AS id FROM ${quoteName(table)} AS legacy ${page.clause}`,
      page.params,
    );
    return rows.map((r) => r.id);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private toAdoptionError(error: unknown): AdoptionError {
    if (error instanceof AdoptionError) return error;
    const e = error as { code?: string; message?: string };
    switch (e.code ?? '') {
      case '28P01':
      case '28000':
        return new AdoptionError('source_access_denied', `PostgreSQL at ${this.display} refused user "${this.user}": check the user name and password`);
      case '3D000':
        return new AdoptionError('source_database_not_found', `PostgreSQL at ${this.display} has no such database`);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'ECONNREFUSED':
      case 'ECONNRESET':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new AdoptionError('source_unreachable', `PostgreSQL at ${this.display} is not reachable (${e.code}): check the host, the port and that the server runs`);
      default:
        break;
    }
    if (/timeout|terminated/i.test(e.message ?? '')) {
      return new AdoptionError('source_unreachable', `PostgreSQL at ${this.display} did not answer in time`);
    }
    const failure = new AdoptionError('source_failed', `reading ${this.display} failed: ${(e.message ?? '').slice(0, 200)}`);
    return failure;
  }
}

/** pgvector's binary form: uint16 dimensions, uint16 unused, then big-endian float4s. */
export function decodeVector(buffer: Buffer): Float32Array {
  const dims = buffer.readUInt16BE(0);
  const out = new Float32Array(dims);
  const bytes = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  buffer.copy(bytes, 0, 4, 4 + 4 * dims);
  // One native byte swap of the whole vector instead of a read per float.
  if (LITTLE_ENDIAN) bytes.swap32();
  return out;
}

/**
 * {@link decodeVector} of the hex text of pgvector's binary form (`encode(vector_send(v), 'hex')`): the
 * bytes are written straight into the vector, with no buffer in between.
 */
export function decodeHexVector(hex: string): Float32Array {
  const dims = Number.parseInt(hex.slice(0, 4), 16);
  const out = new Float32Array(dims);
  const bytes = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  bytes.write(hex.slice(8, 8 + 8 * dims), 'hex');
  if (LITTLE_ENDIAN) bytes.swap32();
  return out;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** pgvector's text form `[1,2,3]`; a float32 printed by JavaScript reads back as the same float32. */
export function toSql(vector: ArrayLike<number>): string {
  return `[${Array.from(vector).join(',')}]`;
}

/**
 * The condition that a row holds a vector of the layout's size. A typed column (`vector(3072)`) holds no
 * other size, so `IS NOT NULL` says it without reading the vectors (`vector_dims` reads each one whole).
 */
function ofLayoutSize(layout: LegacyLayout): string {
  const col = escapeIdentifier(layout.column);
  if (layout.typed) return `${col} IS NOT NULL`;
  // A size read from the catalog (an integer), written as a literal.
  return `${col} IS NOT NULL AND vector_dims(${col}) = ${Math.trunc(layout.dimensions)}`;
}

/** `schema.table` or `table`, each part quoted. */
function quoteName(table: string): string {
  return table
    .split('.')
    .map((part) => escapeIdentifier(part))
    .join('.');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * The keyset clause of a page of `legacy` rows after `afterId` in uuid order, as the primary key's index walks
 * them, and its parameters. The column is qualified: a bare `ORDER BY id` would sort by the `id::text` output
 * column, which the index cannot give, so every page would read (and encode the vector of) every row left. No
 * `$1 IS NULL OR` either, which keeps a prepared statement's generic plan off the index.
 */
function keyset(afterId: string | null, limit: number): { clause: string; params: unknown[] } {
  // The first page starts at the nil uuid, the lowest: ids that are not uuids fail here as on later pages.
  return afterId === null
    ? { clause: 'WHERE legacy.id >= $1::uuid ORDER BY legacy.id LIMIT $2', params: [NIL_UUID, limit] }
    : { clause: 'WHERE legacy.id > $1::uuid ORDER BY legacy.id LIMIT $2', params: [afterId, limit] };
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
