import { VectorStoreError, isPermanentStoreError } from './vector-store.error';

describe('isPermanentStoreError', () => {
  it('is true for a 4xx the request itself caused', () => {
    for (const status of [400, 401, 403, 408, 409, 413, 422, 499]) {
      expect({ status, permanent: isPermanentStoreError(new VectorStoreError('refused', status)) }).toEqual({ status, permanent: true });
    }
  });

  it('is false for a missing collection, a rate limit, a 5xx, an answer outside 4xx, and no answer', () => {
    for (const status of [404, 429, 500, 502, 503, 399, 300, 200, 500.5]) {
      expect({ status, permanent: isPermanentStoreError(new VectorStoreError('failed', status)) }).toEqual({ status, permanent: false });
    }
    expect(isPermanentStoreError(new VectorStoreError('connection refused'))).toBe(false);
    expect(isPermanentStoreError(new Error('socket hang up'))).toBe(false);
    expect(isPermanentStoreError({ status: '400' })).toBe(false);
    expect(isPermanentStoreError(undefined)).toBe(false);
    expect(isPermanentStoreError(null)).toBe(false);
  });
});
