import { SourceError } from './source.error';

/**
 * Why reading a live database failed:
 * - `invalid_connection_string`: it cannot be read, or names a kind of database the importer does not know;
 * - `source_access_denied`: the server refused the user name or password;
 * - `source_database_not_found`: the server has no database of that name;
 * - `source_schema_not_found`: a schema asked for does not exist, or the user cannot see it;
 * - `source_timeout`: reading the catalog took longer than the statement timeout;
 * - `source_unreachable`: the host is unknown, refused the connection or did not answer in time;
 * - `source_not_allowed`: the host is not among the servers `IMPORT_ALLOWED_HOSTS` allows (nothing was sent to it).
 */
export type ImportErrorCode =
  | 'invalid_connection_string'
  | 'source_access_denied'
  | 'source_database_not_found'
  | 'source_schema_not_found'
  | 'source_timeout'
  | 'source_unreachable'
  | 'source_not_allowed';

/**
 * Importing from a live database failed for a reason the caller can fix. The message never holds the
 * connection string or its password. `expose` tells the HTTP layer to show code and message as they are.
 */
export class ImportError extends SourceError<ImportErrorCode> {
  override readonly name = 'ImportError';
}
