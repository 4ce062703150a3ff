import { isDependencyUnavailable } from './dependency-error';

describe(isDependencyUnavailable.name, () => {
  it('recognises refused connections, lost connections and overloaded services, also as a cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isDependencyUnavailable(refused)).toBe(true);
    expect(isDependencyUnavailable(new Error('outer', { cause: refused }))).toBe(true);
    expect(isDependencyUnavailable(new AggregateError([refused], 'all failed'))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isDependencyUnavailable(new Error('Connection is closed.'))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('x'), { code: 'vector_store_failed', status: 503 }))).toBe(true);
  });

  it('leaves faults of the request or of the code alone', () => {
    expect(isDependencyUnavailable(new TypeError('undefined is not a function'))).toBe(false);
    expect(isDependencyUnavailable(Object.assign(new Error('syntax'), { code: '42601' }))).toBe(false);
    expect(isDependencyUnavailable(Object.assign(new Error('bad filter'), { code: 'vector_store_failed', status: 400 }))).toBe(false);
    expect(isDependencyUnavailable('ECONNREFUSED')).toBe(false);
  });
});
