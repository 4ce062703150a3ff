import { createHash, timingSafeEqual } from 'node:crypto';
import { type RequestHandler } from 'express';
import { type Logger } from '@catalog-indexer/logger';
import { AppError } from './app-error';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * The configured API keys, compared in constant time: the candidate and every key are hashed to 32 bytes and
 * compared with `timingSafeEqual`, all keys every time, so neither the length nor the position of a match
 * shows in the time taken.
 */
export class ApiKeySet {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.filter((k) => k.length > 0).map(digest);
  }

  /** False when no key is configured: the services run open. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  matches(candidate: string): boolean {
    const c = digest(candidate);
    let found = false;
    for (const d of this.digests) found = timingSafeEqual(c, d) || found;
    return found;
  }
}

/** The key in `Authorization: Bearer <key>`, or undefined. */
function bearerKey(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** The password in `Authorization: Basic base64(user:password)`, or undefined. */
function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export interface ApiKeyAuthOptions {
  /** Also accept HTTP Basic auth with the key as password (any user name), so a browser can log in. */
  basic?: boolean;
  /** Realm named in `WWW-Authenticate`. */
  realm?: string;
}

/**
 * Requires one of the API keys as `Authorization: Bearer <key>` (and, with `basic`, as the password of HTTP
 * Basic auth). Answers 401 with `WWW-Authenticate` otherwise. Without keys every request passes.
 */
export function requireApiKey(keys: ApiKeySet, options: ApiKeyAuthOptions = {}): RequestHandler {
  const realm = options.realm ?? 'catalog-indexer';
  const challenge = options.basic ? `Basic realm="${realm}", charset="UTF-8"` : `Bearer realm="${realm}"`;
  return (req, res, next) => {
    if (!keys.enabled) {
      next();
      return;
    }
    const header = req.header('authorization');
    const key = bearerKey(header) ?? (options.basic ? basicPassword(header) : undefined);
    if (key !== undefined && keys.matches(key)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', key === undefined || options.basic ? challenge : `${challenge}, error="invalid_token"`);
    next(
      new AppError(
        'unauthorized',
        key === undefined
          ? options.basic
            ? 'log in with one of the API keys as password (any user name), or send Authorization: Bearer <key>'
            : 'send one of the API keys as Authorization: Bearer <key>'
          : 'the API key is not valid',
      ),
    );
  };
}

/** Logs, once per process start, that the service runs without API keys. */
export function warnWhenOpen(keys: ApiKeySet, logger: Logger, service: string): void {
  if (!keys.enabled) {
    logger.warn(`${service} runs without API keys: every endpoint is open to anyone who can reach it; set API_KEYS to require a key`);
  }
}
