import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line. Covers API keys and passwords wherever they sit in a logged
 * object (config, request headers, connection options, job data).
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'api_key',
  '*.api_key',
  'openaiApiKey',
  '*.openaiApiKey',
  'qdrantApiKey',
  '*.qdrantApiKey',
  'databaseUrl',
  '*.databaseUrl',
  'connectionString',
  '*.connectionString',
  '*.*.connectionString',
  'apiKeys',
  '*.apiKeys',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["api-key"]',
  '*.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["api-key"]',
];

export interface CreateLoggerOptions {
  /** pino level; defaults to `info`. */
  level?: string;
  /** Service name put on every line (`api`, `worker`, `query`, …). */
  name?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

/** Creates the one root logger of a process. Components take children of it with {@link childLogger}. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: options.name ? { service: options.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/** Context carried by a child logger: the component and whichever ids the work at hand has. */
export interface LogContext {
  component: string;
  jobId?: string;
  catalogId?: string;
  requestId?: string;
  [key: string]: unknown;
}

/** A child logger that stamps every line with the component and ids given. */
export function childLogger(parent: Logger, context: LogContext): Logger {
  return parent.child(context);
}

/** Masks a secret-bearing URL (`postgres://user:pass@host/db`) for display: the password becomes `***`. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}

/**
 * Logs why a process could not start, with the reason in the message itself (a configuration error lists
 * every bad key there), and ends the process with exit code 1.
 */
export function exitOnStartupFailure(service: string, error: unknown): never {
  const reason = error instanceof Error ? error.message : String(error);
  createLogger({ name: service }).fatal({ err: error }, `${service} failed to start: ${reason}`);
  process.exit(1);
}
