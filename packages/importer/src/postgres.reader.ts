import { Client, escapeIdentifier, type ClientConfig } from 'pg';
import { tlsOptions, type SourceConnection } from './connection-string';
import { type AllowedSource } from './source-policy';
import { ImportError } from './import.error';
import { type CatalogReader, type SourceCatalog } from './source-catalog';
import { type ReaderTimeouts } from './reader-timeouts';

/** Rows scanned for sample values: a bounded slice, so a huge table costs no more than a small one. */
const SAMPLE_SCAN_ROWS = 1000;

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;
/** Tables, partitioned tables, views, materialized views and foreign tables; partitions are read through their parent. */
const RELATIONS = `c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition`;

/** SQLSTATEs of a relation whose rows cannot be read: insufficient privilege, object not in prerequisite state, FDW errors. */
const UNSAMPLEABLE = new Set(['42501', '55000', 'HV000', 'HV00N', '0A000']);

/** Maps what the pg driver throws to an {@link ImportError} that says what to fix. */
function toImportError(error: unknown, conn: SourceConnection, timeouts: ReaderTimeouts): ImportError {
  if (error instanceof ImportError) return error;
  const e = error as { code?: string; message?: string };
  const message = e.message ?? '';
  switch (e.code ?? '') {
    case '28P01':
    case '28000':
      return new ImportError('source_access_denied', `PostgreSQL at ${conn.display} refused user "${conn.user}": check the user name and password`);
    case '3D000':
      return new ImportError('source_database_not_found', `PostgreSQL at ${conn.host}:${conn.port} has no database "${conn.database ?? conn.user}"`);
    case '57014':
      return new ImportError('source_timeout', `reading the catalog of ${conn.display} took longer than ${timeouts.statementMs} ms; import fewer schemas or raise IMPORT_STATEMENT_TIMEOUT_MS`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ImportError('source_unreachable', `unknown host "${conn.host}": check the host name of the connection string`);
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ImportError('source_unreachable', `PostgreSQL at ${conn.host}:${conn.port} is not reachable (${e.code}): check the host, the port and that the server runs`);
    default:
      break;
  }
  if (/timeout/i.test(message)) {
    return new ImportError('source_unreachable', `PostgreSQL at ${conn.host}:${conn.port} did not answer within ${timeouts.connectMs} ms`);
  }
  return new ImportError('source_unreachable', `reading PostgreSQL at ${conn.display} failed: ${message.slice(0, 200)}`);
}

/** One key per table, columns and referenced columns: the first by name where partitions repeat it. */
function distinctForeignKeys(keys: SourceCatalog['foreignKeys']): SourceCatalog['foreignKeys'] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = JSON.stringify([k.schema, k.table, k.columns, k.refSchema, k.refTable, k.refColumns]);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** The driver's settings for an allowed source: fields only, never the connection string. */
export function postgresClientConfig({ conn, address }: AllowedSource, timeouts: ReaderTimeouts): ClientConfig {
  return {
    host: address,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database: conn.database ?? conn.user,
    ssl: tlsOptions(conn) ?? false,
    connectionTimeoutMillis: timeouts.connectMs,
    query_timeout: timeouts.statementMs + 1_000,
    application_name: 'catalog-indexer-import',
  };
}

/** What the importer sets on its session right after connecting: read-only, and its own timeouts. */
export function postgresSessionSetup(timeouts: ReaderTimeouts): string[] {
  return [
    'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY',
    'SET default_transaction_read_only = on',
    `SET statement_timeout = ${Math.trunc(timeouts.statementMs)}`,
    `SET lock_timeout = ${Math.trunc(timeouts.statementMs)}`,
  ];
}

/** Reads the catalog of a PostgreSQL database through its system catalogs, read-only and with timeouts. */
export class PostgresCatalogReader implements CatalogReader {
  private constructor(
    private readonly client: Client,
    private readonly conn: SourceConnection,
    private readonly timeouts: ReaderTimeouts,
  ) {}

  /**
   * Connects to the address the policy checked, then makes the session read-only and sets its timeouts
   * itself: nothing of the connection string reaches the driver but its host, port, user, password,
   * database and TLS mode.
   */
  static async open(source: AllowedSource, timeouts: ReaderTimeouts): Promise<PostgresCatalogReader> {
    const { conn } = source;
    const client = new Client(postgresClientConfig(source, timeouts));
    // A connection lost later surfaces as a failed query; without a listener it would end the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      for (const statement of postgresSessionSetup(timeouts)) await client.query(statement);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw toImportError(error, conn, timeouts);
    }
    return new PostgresCatalogReader(client, conn, timeouts);
  }

  private async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.client.query(sql, params)).rows as T[];
    } catch (error) {
      throw toImportError(error, this.conn, this.timeouts);
    }
  }

  async read(schemas: readonly string[] | undefined): Promise<SourceCatalog> {
    // One snapshot for every statement: the catalog is read as it was at one instant.
    await this.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const [{ database }] = (await this.query<{ database: string }>('SELECT current_database() AS database')) as [{ database: string }];
      const found = await this.query<{ name: string; comment: string | null }>(
        `SELECT n.nspname AS name, obj_description(n.oid, 'pg_namespace') AS comment FROM pg_namespace n
          WHERE ${USER_SCHEMAS} AND has_schema_privilege(n.oid, 'USAGE') AND ($1::text[] IS NULL OR n.nspname = ANY($1)) ORDER BY 1`,
        [schemas ?? null],
      );
      const missing = (schemas ?? []).filter((s) => !found.some((f) => f.name === s));
      if (missing.length > 0) {
        throw new ImportError('source_schema_not_found', `${this.conn.display} has no schema ${missing.map((m) => `"${m}"`).join(', ')} (or the user cannot use it)`, {
          missing,
        });
      }
      const names = found.map((f) => f.name);
      const tables = await this.query<{ schema: string; name: string; kind: string; comment: string | null }>(
        `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, obj_description(c.oid, 'pg_class') AS comment
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1) AND ${RELATIONS} ORDER BY 1, 2`,
        [names],
      );
      const columns = await this.query<{ schema: string; table: string; name: string; type: string; nullable: boolean; comment: string | null; textual: boolean }>(
        `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
                NOT a.attnotnull AS nullable, col_description(c.oid, a.attnum) AS comment,
                coalesce(bt.typcategory, t.typcategory) IN ('S', 'E') AS textual
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON bt.oid = nullif(t.typbasetype, 0)
          WHERE n.nspname = ANY($1) AND ${RELATIONS} AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY n.nspname, c.relname, a.attnum`,
        [names],
      );
      const primaryKeys = await this.query<{ schema: string; table: string; column: string }>(
        `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column
           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
          WHERE i.indisprimary AND n.nspname = ANY($1) AND ${RELATIONS} ORDER BY 1, 2, 3`,
        [names],
      );
      // Foreign keys declared on a partition belong to its partitioned root table (a partition is read through
      // its root); the same key declared on every partition is one key of the root. Keys a partition inherits
      // from its parent (conparentid <> 0) are the parent's own, read there.
      const declared = await this.query<SourceCatalog['foreignKeys'][number]>(
        `WITH fk AS (
           SELECT con.conname, con.conrelid, con.confrelid, con.conkey, con.confkey,
                  coalesce(pg_partition_root(con.conrelid), con.conrelid) AS rel,
                  coalesce(pg_partition_root(con.confrelid), con.confrelid) AS refrel
             FROM pg_constraint con WHERE con.contype = 'f' AND con.conparentid = 0)
         SELECT n.nspname AS schema, c.relname AS table, fk.conname AS name, rn.nspname AS "refSchema", rc.relname AS "refTable",
                ARRAY(SELECT a.attname::text FROM unnest(fk.conkey) WITH ORDINALITY k(num, ord)
                        JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.num ORDER BY k.ord) AS columns,
                ARRAY(SELECT a.attname::text FROM unnest(fk.confkey) WITH ORDINALITY k(num, ord)
                        JOIN pg_attribute a ON a.attrelid = fk.confrelid AND a.attnum = k.num ORDER BY k.ord) AS "refColumns"
           FROM fk
           JOIN pg_class c ON c.oid = fk.rel JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_class rc ON rc.oid = fk.refrel JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE n.nspname = ANY($1) AND ${RELATIONS} ORDER BY 1, 2, 3`,
        [names],
      );
      const foreignKeys = distinctForeignKeys(declared);
      return {
        database,
        schemas: found,
        tables: tables.map((t) => ({ schema: t.schema, name: t.name, type: t.kind === 'v' || t.kind === 'm' ? 'view' : 'table', comment: t.comment })),
        columns,
        primaryKeys,
        foreignKeys,
      };
    } finally {
      await this.client.query('ROLLBACK').catch(() => undefined);
    }
  }

  async sample(schema: string, table: string, column: string, limit: number): Promise<string[]> {
    const col = escapeIdentifier(column);
    try {
      const { rows } = await this.client.query<{ v: string }>(
        `SELECT DISTINCT v FROM (SELECT ${col}::text AS v FROM ${escapeIdentifier(schema)}.${escapeIdentifier(table)}
           WHERE ${col} IS NOT NULL LIMIT ${SAMPLE_SCAN_ROWS}) s ORDER BY v LIMIT $1`,
        [limit],
      );
      return rows.map((r) => r.v);
    } catch (error) {
      // A relation that cannot be read (no privilege, a materialized view never refreshed, a foreign table
      // whose server is away) just has no samples; timeouts and lost connections still end the import.
      if (UNSAMPLEABLE.has((error as { code?: string }).code ?? '')) return [];
      throw toImportError(error, this.conn, this.timeouts);
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
