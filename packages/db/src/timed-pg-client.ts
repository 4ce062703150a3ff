import { Client } from 'pg';
import { postgresQueryDuration } from '@catalog-indexer/metrics';

const TRANSACTION = new Set(['begin', 'start', 'commit', 'rollback', 'savepoint', 'release', 'end']);
const VERBS = new Set(['select', 'insert', 'update', 'delete', 'with']);

/**
 * The operation label of a statement: its verb (`select`, `insert`, `update`, `delete`), `transaction` for
 * BEGIN, COMMIT, ROLLBACK and savepoints, `other` for the rest (DDL, SET, advisory locks through SELECT
 * count as `select`). A `WITH` query is named by the verb after its common table expressions, when seen.
 */
export function operationOf(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? '';
  if (TRANSACTION.has(verb)) return 'transaction';
  if (verb === 'with') {
    const main = /\)\s*(select|insert|update|delete)\b[^()]*$/i.exec(sql)?.[1]?.toLowerCase();
    return main ?? 'select';
  }
  return VERBS.has(verb) ? verb : 'other';
}

function textOf(args: unknown[]): string | undefined {
  const first = args[0];
  if (typeof first === 'string') return first;
  if (first !== null && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string') return (first as { text: string }).text;
  return undefined;
}

/**
 * A `pg` client that times every promise-returning query into `cidx_postgres_query_duration_seconds`, by
 * operation and outcome. The pool of the catalog database is given it as its `Client` (TypeORM passes
 * `extra` to `pg.Pool`), so every query of every repository is measured without touching them.
 */
export class TimedClient extends Client {
  // pg's `query` has a dozen overloads; the wrapper passes any call through as it came.
  override query(...args: unknown[]): never {
    const text = textOf(args);
    const result = (super.query as (...a: unknown[]) => unknown).apply(this, args);
    if (text === undefined || !(result instanceof Promise)) return result as never;
    const end = postgresQueryDuration.startTimer({ operation: operationOf(text) });
    return result.then(
      (value: unknown) => {
        end({ outcome: 'ok' });
        return value;
      },
      (error: unknown) => {
        end({ outcome: 'error' });
        throw error;
      },
    ) as never;
  }
}
