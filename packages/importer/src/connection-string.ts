import { isIP } from 'node:net';
import { ImportError } from './import.error';

export type SourceDialect = 'postgres' | 'mysql';

/**
 * How the importer talks TLS to a source: `disable` (plain), `require` (encrypted, certificate not checked),
 * `verify-ca` (encrypted, certificate checked against the system's authorities), `verify-full` (and the host
 * name checked against the certificate).
 */
export type TlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/**
 * A connection string taken apart into the only fields the importer uses; `password` stays here and never
 * reaches a message or a log. Drivers are configured from these fields, never from the string itself, so no
 * parameter of the string can change the host, the session's settings or make the process read a file.
 */
export interface SourceConnection {
  dialect: SourceDialect;
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  /** The database named in the path, if any. */
  database: string | undefined;
  tls: TlsMode;
  /** `host:port/database`, for messages: no user, no password. */
  display: string;
}

const DIALECTS: Record<string, { dialect: SourceDialect; port: number }> = {
  'postgres:': { dialect: 'postgres', port: 5432 },
  'postgresql:': { dialect: 'postgres', port: 5432 },
  'mysql:': { dialect: 'mysql', port: 3306 },
  'mariadb:': { dialect: 'mysql', port: 3306 },
};

/** The one query parameter a connection string may carry, and its values. */
const TLS_PARAMETER = 'sslmode';
const TLS_MODES: readonly TlsMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];
/** A DNS name: labels of letters, digits and hyphens. Anything else that is not an IP literal is refused. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

const invalid = (message: string) => new ImportError('invalid_connection_string', message);

/**
 * Reads `postgres://…`, `postgresql://…`, `mysql://…` or `mariadb://…` (the scheme decides the driver) into
 * host, port, user, password, database and TLS mode. The only parameter allowed is `sslmode`
 * (`disable`, `require`, `verify-ca`, `verify-full`); any other is refused by name, because drivers would
 * let it override the host, the read-only session or the timeouts.
 *
 * @throws ImportError `invalid_connection_string` saying what is wrong, without repeating the string.
 */
export function parseConnectionString(value: string): SourceConnection {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('connectionString is not a URL; give it as postgres://user:password@host:5432/database or mysql://user:password@host:3306/database');
  }
  const kind = DIALECTS[url.protocol];
  if (!kind) throw invalid(`connectionString starts with "${url.protocol.slice(0, 20)}//"; use postgres://, postgresql://, mysql:// or mariadb://`);
  if (url.hash) throw invalid('connectionString has a "#" fragment; %-escape a "#" in the password as %23');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw invalid('connectionString names no host');
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    throw invalid('connectionString names a host that is neither a DNS name nor an IP address (one host only, no socket paths)');
  }
  let tls: TlsMode = 'disable';
  for (const [name, setting] of url.searchParams) {
    if (name !== TLS_PARAMETER) {
      throw invalid(`connectionString parameter "${name.slice(0, 40)}" is not allowed; the only parameter is ${TLS_PARAMETER} (${TLS_MODES.join(', ')})`);
    }
    if (!TLS_MODES.includes(setting as TlsMode)) {
      throw invalid(`${TLS_PARAMETER} must be one of ${TLS_MODES.join(', ')}`);
    }
    tls = setting as TlsMode;
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw invalid('connectionString has a broken %-escape in its user, password or database');
    }
  };
  const database = decode(url.pathname.replace(/^\//, '')) || undefined;
  const port = url.port ? Number(url.port) : kind.port;
  return {
    dialect: kind.dialect,
    host,
    port,
    user: decode(url.username) || (kind.dialect === 'postgres' ? 'postgres' : 'root'),
    password: url.password ? decode(url.password) : undefined,
    database,
    tls,
    display: `${url.hostname}:${port}${database ? `/${database}` : ''}`,
  };
}

/** Node's TLS options for a mode: `undefined` for a plain connection. `servername` keeps SNI and the host check on the name. */
export function tlsOptions(conn: SourceConnection): { rejectUnauthorized: boolean; servername?: string; checkServerIdentity?: () => undefined } | undefined {
  const servername = isIP(conn.host) === 0 ? conn.host : undefined;
  switch (conn.tls) {
    case 'disable':
      return undefined;
    case 'require':
      return { rejectUnauthorized: false, servername };
    case 'verify-ca':
      return { rejectUnauthorized: true, servername, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, servername };
  }
}
