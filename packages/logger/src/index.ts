export { createLogger, isTerminal, childLogger, maskUrl, exitOnStartupFailure, REDACT_PATHS } from './logger';
export type { Logger, LogContext, CreateLoggerOptions } from './logger';
