import { operationOf } from './timed-pg-client';

describe(operationOf.name, () => {
  it('names a statement by its verb, transactions as one operation, the rest as other', () => {
    expect(operationOf('SELECT 1')).toBe('select');
    expect(operationOf('  insert into "dq_embeddings" ("id") VALUES ($1)')).toBe('insert');
    expect(operationOf('UPDATE catalogs SET version = version + 1')).toBe('update');
    expect(operationOf('DELETE FROM point_deletions WHERE id = ANY($1)')).toBe('delete');
    expect(operationOf('START TRANSACTION')).toBe('transaction');
    expect(operationOf('COMMIT')).toBe('transaction');
    expect(operationOf('ROLLBACK TO SAVEPOINT typeorm_1')).toBe('transaction');
    expect(operationOf('CREATE TABLE t (id int)')).toBe('other');
  });

  it('names a WITH query by the verb after its common table expressions', () => {
    expect(operationOf('WITH gone AS (SELECT id FROM a) DELETE FROM b USING gone WHERE b.id = gone.id')).toBe('delete');
    expect(operationOf('WITH x AS (SELECT 1) SELECT * FROM x')).toBe('select');
  });
});
