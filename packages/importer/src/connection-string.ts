import { ImportError } from './import.error';

export type SourceDialect = 'postgres' | 'mysql';

/** A connection string taken apart; `password` stays here and never reaches a message or a log. */
export interface SourceConnection {
  dialect: SourceDialect;
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  /** The database named in the path, if any. */
  database: string | undefined;
  /** `host:port/database`, for messages: no user, no password. */
  display: string;
  /** The string as given, for the driver. */
  url: string;
}

const DIALECTS: Record<string, { dialect: SourceDialect; port: number }> = {
  'postgres:': { dialect: 'postgres', port: 5432 },
  'postgresql:': { dialect: 'postgres', port: 5432 },
  'mysql:': { dialect: 'mysql', port: 3306 },
  'mariadb:': { dialect: 'mysql', port: 3306 },
};

/**
 * Reads `postgres://…`, `postgresql://…`, `mysql://…` or `mariadb://…`; the scheme decides the driver.
 *
 * @throws ImportError `invalid_connection_string` saying what is wrong, without repeating the string.
 */
export function parseConnectionString(value: string): SourceConnection {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ImportError(
      'invalid_connection_string',
      'connectionString is not a URL; give it as postgres://user:password@host:5432/database or mysql://user:password@host:3306/database',
    );
  }
  const kind = DIALECTS[url.protocol];
  if (!kind) {
    throw new ImportError(
      'invalid_connection_string',
      `connectionString starts with "${url.protocol.slice(0, 20)}//"; use postgres://, postgresql://, mysql:// or mariadb://`,
    );
  }
  if (!url.hostname) throw new ImportError('invalid_connection_string', 'connectionString names no host');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ImportError('invalid_connection_string', 'connectionString has a broken %-escape in its user, password or database');
    }
  };
  const database = decode(url.pathname.replace(/^\//, '')) || undefined;
  const port = url.port ? Number(url.port) : kind.port;
  return {
    dialect: kind.dialect,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    user: decode(url.username) || (kind.dialect === 'postgres' ? 'postgres' : 'root'),
    password: url.password ? decode(url.password) : undefined,
    database,
    display: `${url.hostname}:${port}${database ? `/${database}` : ''}`,
    url: value,
  };
}
