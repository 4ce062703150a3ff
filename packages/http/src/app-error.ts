/** Stable error codes of the HTTP surface, each with its status. The one place codes map to statuses. */
export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  invalid_catalog: 400,
  invalid_id: 400,
  invalid_text: 400,
  nesting_too_deep: 400,
  unknown_keys: 400,
  invalid_connection_string: 400,
  unauthorized: 401,
  source_not_allowed: 403,
  not_found: 404,
  source_access_denied: 422,
  source_database_not_found: 422,
  source_schema_not_found: 422,
  source_timeout: 422,
  source_unreachable: 502,
  source_failed: 502,
  source_table_not_found: 422,
  source_not_vector: 422,
  space_mismatch: 409,
  adoption_not_verified: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  bad_gateway: 502,
  service_unavailable: 503,
  index_rebuilding: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error the client should see: a stable code, a message that says what to fix, optional details. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
