import { SourceError } from './source.error';

/**
 * Why an adoption of a pgvector-era table (or its rollback) cannot go ahead, for a reason the caller fixes:
 * - `invalid_connection_string`, `source_not_allowed` (`IMPORT_ALLOWED_HOSTS`), `source_access_denied`, `source_database_not_found`, `source_unreachable`,
 *   `source_failed`: reaching the source database;
 * - `source_table_not_found`, `source_not_vector`: the table named is missing or holds no vectors;
 * - `space_mismatch`: the legacy vectors belong to another embedding space than the one this install serves;
 * - `adoption_not_verified`: the legacy column may not be dropped before a verified adoption of every row.
 * Messages never hold a connection string. `expose` tells the HTTP layer to show code and message as they are.
 */
export type AdoptionErrorCode =
  | 'invalid_connection_string'
  | 'source_not_allowed'
  | 'source_access_denied'
  | 'source_database_not_found'
  | 'source_unreachable'
  | 'source_failed'
  | 'source_table_not_found'
  | 'source_not_vector'
  | 'space_mismatch'
  | 'adoption_not_verified';

export class AdoptionError extends SourceError<AdoptionErrorCode> {
  override readonly name = 'AdoptionError';
}
