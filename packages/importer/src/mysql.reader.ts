import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { tlsOptions, type SourceConnection } from './connection-string';
import { type AllowedSource } from './source-policy';
import { ImportError } from './import.error';
import { type ReaderTimeouts } from './reader-timeouts';
import { type CatalogReader, type SourceCatalog } from './source-catalog';

const SAMPLE_SCAN_ROWS = 1000;
const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];
const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);

const UNSAMPLEABLE = new Set(['ER_TABLEACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR', 'ER_VIEW_INVALID', 'ER_NO_SUCH_TABLE']);

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;

function toImportError(error: unknown, conn: SourceConnection, timeouts: ReaderTimeouts): ImportError {
  if (error instanceof ImportError) return error;
  const e = error as { code?: string; errno?: number; message?: string };
  switch (e.code ?? '') {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return new ImportError('source_access_denied', `MySQL at ${conn.display} refused user "${conn.user}": check the user name and password`);
    case 'ER_BAD_DB_ERROR':
      return new ImportError('source_database_not_found', `MySQL at ${conn.host}:${conn.port} has no database "${conn.database ?? ''}"`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ImportError('source_unreachable', `unknown host "${conn.host}": check the host name of the connection string`);
    case 'ETIMEDOUT':
      return new ImportError('source_unreachable', `MySQL at ${conn.host}:${conn.port} did not answer within ${timeouts.connectMs} ms`);
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'PROTOCOL_CONNECTION_LOST':
      return new ImportError('source_unreachable', `MySQL at ${conn.host}:${conn.port} is not reachable (${e.code}): check the host, the port and that the server runs`);
    case 'PROTOCOL_SEQUENCE_TIMEOUT':
      return new ImportError('source_timeout', `reading the catalog of ${conn.display} took longer than ${timeouts.statementMs} ms; import fewer schemas or raise IMPORT_STATEMENT_TIMEOUT_MS`);
    default:
      break;
  }
  // MariaDB max_statement_time (1969) and MySQL max_execution_time (3024).
  if (e.errno === 1969 || e.errno === 3024) {
    return new ImportError('source_timeout', `reading the catalog of ${conn.display} took longer than ${timeouts.statementMs} ms; import fewer schemas or raise IMPORT_STATEMENT_TIMEOUT_MS`);
  }
  return new ImportError('source_unreachable', `reading MySQL at ${conn.display} failed: ${(e.message ?? '').slice(0, 200)}`);
}

/** Reads the catalog of a MySQL or MariaDB server through `information_schema`, read-only and with timeouts. */
export class MySqlCatalogReader implements CatalogReader {
  private constructor(
    private readonly connection: Connection,
    private readonly conn: SourceConnection,
    private readonly timeouts: ReaderTimeouts,
  ) {}

  /** Connects to the address the policy checked, then makes the session read-only and sets its statement limits. */
  static async open({ conn, address }: AllowedSource, timeouts: ReaderTimeouts): Promise<MySqlCatalogReader> {
    let connection: Connection;
    try {
      const ssl = tlsOptions(conn);
      connection = await createConnection({
        host: address,
        ...(ssl ? { ssl } : {}),
        port: conn.port,
        user: conn.user,
        password: conn.password,
        database: conn.database,
        connectTimeout: timeouts.connectMs,
        multipleStatements: false,
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
      });
    } catch (error) {
      throw toImportError(error, conn, timeouts);
    }
    connection.on('error', () => undefined);
    const reader = new MySqlCatalogReader(connection, conn, timeouts);
    await reader.query('SET SESSION TRANSACTION READ ONLY');
    // Server-side statement limits: MariaDB counts seconds, MySQL milliseconds; each ignores the other's name.
    await connection.query(`SET SESSION max_statement_time = ${timeouts.statementMs / 1000}`).catch(() => undefined);
    await connection.query(`SET SESSION max_execution_time = ${timeouts.statementMs}`).catch(() => undefined);
    return reader;
  }

  private async query<T>(sql: string, values: unknown[] = []): Promise<T[]> {
    try {
      const [rows] = await this.connection.query<RowDataPacket[]>({ sql, values, timeout: this.timeouts.statementMs + 1_000 });
      return rows as T[];
    } catch (error) {
      throw toImportError(error, this.conn, this.timeouts);
    }
  }

  async read(schemas: readonly string[] | undefined): Promise<SourceCatalog> {
    const wanted = schemas ?? (this.conn.database ? [this.conn.database] : undefined);
    await this.query('START TRANSACTION READ ONLY');
    try {
      const all = await this.query<{ name: string }>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
      const visible = all.map((s) => s.name).filter((s) => !SYSTEM_SCHEMAS.includes(s.toLowerCase()));
      const missing = (wanted ?? []).filter((s) => !visible.includes(s));
      if (missing.length > 0) {
        throw new ImportError('source_schema_not_found', `${this.conn.host}:${this.conn.port} has no database ${missing.map((m) => `"${m}"`).join(', ')} (or the user cannot see it)`, {
          missing,
        });
      }
      const names = wanted ? [...wanted] : visible;
      if (names.length === 0) return { database: this.conn.database ?? this.conn.host, schemas: [], tables: [], columns: [], primaryKeys: [], foreignKeys: [] };
      const tables = await this.query<{ schema: string; name: string; type: string; comment: string }>(
        `SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_COMMENT AS comment
           FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')
          ORDER BY TABLE_SCHEMA, TABLE_NAME`,
        [names],
      );
      const kept = new Set(tables.map((t) => `${t.schema}\u0000${t.name}`));
      const columns = await this.query<{ schema: string; table: string; name: string; type: string; nullable: string; comment: string; dataType: string }>(
        `SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS \`table\`, COLUMN_NAME AS name, COLUMN_TYPE AS type,
                IS_NULLABLE AS nullable, COLUMN_COMMENT AS comment, DATA_TYPE AS dataType
           FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
        [names],
      );
      const keys = await this.query<{ schema: string; table: string; name: string; column: string; refSchema: string | null; refTable: string | null; refColumn: string | null }>(
        `SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS \`table\`, CONSTRAINT_NAME AS name, COLUMN_NAME AS \`column\`,
                REFERENCED_TABLE_SCHEMA AS refSchema, REFERENCED_TABLE_NAME AS refTable, REFERENCED_COLUMN_NAME AS refColumn
           FROM information_schema.KEY_COLUMN_USAGE
          WHERE TABLE_SCHEMA IN (?) AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL)
          ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
        [names],
      );
      const foreignKeys = new Map<string, SourceCatalog['foreignKeys'][number]>();
      for (const k of keys) {
        if (k.name === 'PRIMARY' || k.refTable === null) continue;
        const id = `${k.schema}\u0000${k.table}\u0000${k.name}`;
        const fk = foreignKeys.get(id) ?? { schema: k.schema, table: k.table, name: k.name, columns: [], refSchema: k.refSchema ?? k.schema, refTable: k.refTable, refColumns: [] };
        fk.columns.push(k.column);
        fk.refColumns.push(k.refColumn ?? '');
        foreignKeys.set(id, fk);
      }
      const isKept = (r: { schema: string; table: string }) => kept.has(`${r.schema}\u0000${r.table}`);
      return {
        database: this.conn.database ?? names[0] ?? this.conn.host,
        schemas: names.map((name) => ({ name, comment: null })),
        tables: tables.map((t) => ({
          schema: t.schema,
          name: t.name,
          type: t.type === 'VIEW' ? 'view' : 'table',
          // MySQL reports "VIEW" as the comment of every view.
          comment: t.type === 'VIEW' && t.comment === 'VIEW' ? null : t.comment || null,
        })),
        columns: columns.filter(isKept).map((c) => ({
          schema: c.schema,
          table: c.table,
          name: c.name,
          type: c.type,
          nullable: c.nullable === 'YES',
          comment: c.comment || null,
          textual: TEXT_TYPES.has(c.dataType.toLowerCase()),
        })),
        primaryKeys: keys.filter((k) => k.name === 'PRIMARY' && isKept(k)).map((k) => ({ schema: k.schema, table: k.table, column: k.column })),
        foreignKeys: [...foreignKeys.values()].filter(isKept),
      };
    } finally {
      await this.connection.query('ROLLBACK').catch(() => undefined);
    }
  }

  async sample(schema: string, table: string, column: string, limit: number): Promise<string[]> {
    const col = quote(column);
    try {
      const [rows] = await this.connection.query<RowDataPacket[]>({
        sql: `SELECT DISTINCT v FROM (SELECT CAST(${col} AS CHAR) AS v FROM ${quote(schema)}.${quote(table)}
                WHERE ${col} IS NOT NULL LIMIT ${SAMPLE_SCAN_ROWS}) s ORDER BY v LIMIT ?`,
        values: [limit],
        timeout: this.timeouts.statementMs + 1_000,
      });
      return rows.map((r) => String(r.v));
    } catch (error) {
      // A table or view that cannot be read (no privilege, a view over a missing table) just has no samples.
      if (UNSAMPLEABLE.has((error as { code?: string }).code ?? '')) return [];
      throw toImportError(error, this.conn, this.timeouts);
    }
  }

  async close(): Promise<void> {
    await this.connection.end().catch(() => undefined);
  }
}
