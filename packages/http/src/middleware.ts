import { randomUUID } from 'node:crypto';
import { type ErrorRequestHandler, type RequestHandler } from 'express';
import { ZodError } from 'zod';
import { CatalogValidationError, exceedsJsonDepth, findUnsafeText, formatPath, MAX_JSON_DEPTH } from '@catalog-indexer/catalog';
import { type Logger } from '@catalog-indexer/logger';
import { AppError, ERROR_STATUS, type ErrorCode } from './app-error';
import { isDependencyUnavailable } from './dependency-error';

/** Seconds a client is asked to wait (`Retry-After`) when a dependency is down. */
export const RETRY_AFTER_SECONDS = 5;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by {@link requestContext}. */
      id: string;
      /** Child logger stamped with the request id. */
      log: Logger;
    }
  }
}

/** Gives every request an id (taken from `x-request-id` when sent) and a child logger; logs each response. */
export function requestContext(logger: Logger): RequestHandler {
  // The request line holds only the fields below, none of them secret, so it skips the redaction pass that
  // every other line goes through (it costs more than the rest of the line).
  const requestLog = logger.child({}, { redact: { paths: [] } });
  return (req, res, next) => {
    const header = req.header('x-request-id');
    const id = header && /^[\w.-]{1,128}$/.test(header) ? header : randomUUID();
    req.id = id;
    // The child logger is made when a handler first logs: most requests only write the line below.
    let log: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= logger.child({ requestId: id })),
      set: (value: Logger) => {
        log = value;
      },
    });
    res.setHeader('x-request-id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const path = req.originalUrl;
      const query = path.indexOf('?');
      requestLog.info({ requestId: id, method: req.method, path: query < 0 ? path : path.slice(0, query), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

/** 404 in the error shape for routes that do not exist. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `no route for ${req.method} ${req.path}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  message: string;
}

/**
 * Codes for the client errors that Express and body-parser raise themselves (a path that cannot be decoded,
 * a charset or content encoding the parser does not read): they are the client's to fix, not a 500.
 */
const CLIENT_ERROR_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** An error of a domain package meant for the client as it is (`expose`), with a code this layer knows. */
function isExposed(error: unknown): error is { code: ErrorCode; message: string; details?: unknown } {
  const e = error as { expose?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && e.expose === true && typeof e.code === 'string' && Object.hasOwn(ERROR_STATUS, e.code);
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isExposed(error)) return new AppError(error.code, error.message, error.details);
  if (error instanceof CatalogValidationError) {
    return new AppError('invalid_catalog', error.message, error.details);
  }
  if (error instanceof ZodError) {
    return new AppError(
      'invalid_request',
      'the request is not valid: ' + error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
      error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const parserError = error as BodyParserError;
  if (parserError && typeof parserError === 'object') {
    if (parserError.type === 'entity.parse.failed') {
      return new AppError('invalid_json', `the body is not valid JSON: ${parserError.message}`);
    }
    if (parserError.type === 'entity.too.large') {
      return new AppError('payload_too_large', 'the body is larger than the server accepts (MAX_UPLOAD_BYTES)');
    }
    if (parserError.type === 'charset.unsupported' || parserError.type === 'encoding.unsupported') {
      return new AppError('unsupported_media_type', `${parserError.message}: send JSON in UTF-8, uncompressed, gzip, deflate or br`);
    }
    // A dependency's error carries a status too: the vector store's 404 for a collection being recreated
    // is the 503 below, not the client's not_found.
    const code = typeof parserError.status === 'number' && !isDependencyUnavailable(error) ? CLIENT_ERROR_CODES[parserError.status] : undefined;
    if (code) return new AppError(code, parserError.message);
  }
  if (isDependencyUnavailable(error)) {
    return new AppError(
      'service_unavailable',
      `a service this request needs (database, queue, vector store or embeddings) is unreachable right now; retry in ${RETRY_AFTER_SECONDS} s`,
    );
  }
  return new AppError('internal', 'internal error');
}

/** Maps every error to `{"error": {"code", "message", "details"?}}` with the code's status. */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const appError = toAppError(error);
  const log = req.log as Logger | undefined;
  if (appError.code === 'index_rebuilding') res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  if (appError.code === 'service_unavailable') {
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    log?.warn({ err: error }, 'request failed: a dependency is unavailable');
  } else if (appError.status >= 500) log?.error({ err: error }, 'request failed');
  res.status(appError.status).json({
    error: {
      code: appError.code,
      message: appError.message,
      ...(appError.details !== undefined ? { details: appError.details } : {}),
    },
  });
};

/** Requires `Content-Type: application/json` on requests with a body. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (['POST', 'PUT', 'PATCH'].includes(req.method) && req.headers['content-length'] !== '0' && !req.is('application/json')) {
    next(new AppError('unsupported_media_type', 'send the body as JSON with Content-Type: application/json'));
    return;
  }
  next();
};

/**
 * Answers 503 at once while `isReady()` is false, instead of letting a request wait for a connection that is
 * not there (a client that queues commands until it connects would hold the request forever).
 */
export function requireDependency(name: string, isReady: () => boolean): RequestHandler {
  return (_req, _res, next) => {
    next(isReady() ? undefined : new AppError('service_unavailable', `${name} is unreachable right now; retry in ${RETRY_AFTER_SECONDS} s`));
  };
}

/**
 * Refuses a body nested more than {@link MAX_JSON_DEPTH} levels deep with 400 `nesting_too_deep`, before any
 * check or handler walks it (a recursive walk of 5,000 nested objects overflows the stack).
 */
export const limitJsonDepth: RequestHandler = (req, _res, next) => {
  if (exceedsJsonDepth(req.body)) {
    next(new AppError('nesting_too_deep', `the body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; send at most ${MAX_JSON_DEPTH} levels`));
    return;
  }
  next();
};

/**
 * Refuses a body or query string holding a NUL character or a lone surrogate anywhere (Postgres cannot
 * store the one, UTF-8 cannot encode the other) with 400 `invalid_text` naming each field.
 */
export const rejectUnsafeText: RequestHandler = (req, _res, next) => {
  const found = [
    ...findUnsafeText(req.query).map((u) => ({ path: `?${formatPath(u.path)}`, message: u.message })),
    ...findUnsafeText(req.body).map((u) => ({ path: formatPath(u.path) || '(body)', message: u.message })),
  ];
  if (found.length > 0) {
    next(new AppError('invalid_text', `text that cannot be stored: ${found.slice(0, 5).map((f) => `${f.path}: ${f.message}`).join('; ')}`, found));
    return;
  }
  next();
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `:id` path parameter as a UUID, or a 400 saying so. */
export function uuidParam(value: unknown, name = 'id'): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new AppError('invalid_id', `${name} must be a UUID like 2f1c…-…, got "${String(value)}"`);
  }
  return value.toLowerCase();
}
