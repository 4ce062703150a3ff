import { Client, escapeIdentifier, type ClientConfig } from 'pg';
import { type SourceConnection } from './connection-string';
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

/** Reads the catalog of a PostgreSQL database through its system catalogs, read-only and with timeouts. */
export class PostgresCatalogReader implements CatalogReader {
  private constructor(
    private readonly client: Client,
    private readonly conn: SourceConnection,
    private readonly timeouts: ReaderTimeouts,
  ) {}

  /** Connects read-only (`default_transaction_read_only`), with connect and statement timeouts. */
  static async open(conn: SourceConnection, timeouts: ReaderTimeouts): Promise<PostgresCatalogReader> {
    const config: ClientConfig = {
      connectionString: conn.url,
      connectionTimeoutMillis: timeouts.connectMs,
      statement_timeout: timeouts.statementMs,
      query_timeout: timeouts.statementMs + 1_000,
      application_name: 'catalog-indexer-import',
      options: '-c default_transaction_read_only=on',
    };
    const client = new Client(config);
    // A connection lost later surfaces as a failed query; without a listener it would end the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
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
      const foreignKeys = await this.query<SourceCatalog['foreignKeys'][number]>(
        `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, rn.nspname AS "refSchema", rc.relname AS "refTable",
                ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord) AS columns,
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord) AS "refColumns"
           FROM pg_constraint con
           JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE con.contype = 'f' AND con.conparentid = 0 AND n.nspname = ANY($1) AND ${RELATIONS} ORDER BY 1, 2, 3`,
        [names],
      );
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
