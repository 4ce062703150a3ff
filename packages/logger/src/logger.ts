import pino, { type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

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
  /**
   * Human-readable, coloured lines instead of JSON. Defaults to whether stdout is a terminal, so a person
   * running a service sees readable logs and a log collector gets JSON.
   */
  pretty?: boolean;
  /** Write each line to stdout before going on (default false: lines are written asynchronously). */
  sync?: boolean;
}

/** True when the stream is a terminal: logs written there are read by a person. */
export function isTerminal(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true;
}

/** Creates the one root logger of a process. Components take children of it with {@link childLogger}. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: options.name ? { service: options.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.pretty ?? (options.destination === undefined && isTerminal())) {
    // Synchronous, in this thread: a line is on the screen before the process goes on (or exits).
    const stream = pretty({ colorize: options.destination === undefined, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,component', messageFormat: '{if service}{service}{end}{if component}/{component}{end}: {msg}', destination: options.destination ?? 1 });
    return pino(pinoOptions, stream);
  }
  if (options.destination) return pino(pinoOptions, options.destination);
  // Lines are written asynchronously: under load, the lines logged while a write is in flight go out
  // together in the next write instead of one system call each. pino flushes what is left when the process
  // exits (exitOnStartupFailure writes synchronously, since it ends the process at once).
  return pino(pinoOptions, pino.destination({ dest: 1, sync: options.sync ?? false }));
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
  createLogger({ name: service, sync: true }).fatal({ err: error }, `${service} failed to start: ${reason}`);
  process.exit(1);
}
