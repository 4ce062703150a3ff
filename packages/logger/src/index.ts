export { createLogger, childLogger, maskUrl, REDACT_PATHS } from './logger';
export type { Logger, LogContext, CreateLoggerOptions } from './logger';
